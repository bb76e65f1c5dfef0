using System.Globalization;
using Microsoft.CodeAnalysis;
using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>RG0021: each network written in code for <c>TokenBucketOptions.ExemptNetworks</c>, wherever the list is filled.</summary>
public sealed class ExemptNetworkDiagnosticTests
{
    private static string Services(string body) => $$"""
        public static class Setup
        {
            public static void Configure(IServiceCollection services)
            {
                {{body}}
            }
        }
        """;

    [Fact]
    public Task RG0021_a_malformed_network_is_an_error_at_the_entry_however_the_list_is_filled() => VerifyLibrary(Services("""
        services.AddTokenBuckets(o =>
                {
                    o.ExemptNetworks.Add({|RG0021:"10.0.0.0/33"|});
                    o.ExemptNetworks.Add("10.0.0.0/8");
                    o.ExemptNetworks.Insert(0, {|RG0021:"fd00::/129"|});
                    o.ExemptNetworks.AddRange([{|RG0021:"10.1/16"|}, "::1"]);
                    o.ExemptNetworks.AddRange(new[] { "192.168.0.0/16", {|RG0021:"192.168.0.0/-1"|} });
                    o.ExemptNetworks.InsertRange(0, new string[] { {|RG0021:"1::2::3"|} });
                });
                services.Configure<TokenBucketOptions>(o => o.ExemptNetworks = ["127.0.0.1", {|RG0021:"localhost"|}, .. new[] { {|RG0021:"::ffff:1.2.3"|} }]);
                services.Configure<TokenBucketOptions>(o => o.ExemptNetworks = new System.Collections.Generic.List<string> { "fd00::/8", {|RG0021:"fd00::/8 "|} });
                services.Configure<TokenBucketOptions>(o => o.ExemptNetworks = new() { {|RG0021:"010.0.0.0/8"|} });
                services.Configure<TokenBucketOptions>(o => o.ExemptNetworks.Add({|RG0021:Networks.Office|}));
                var options = new TokenBucketOptions { ExemptNetworks = { "10.0.0.0/8", {|RG0021:"[::1]"|} } };
                var other = new TokenBucketOptions { ExemptNetworks = [{|RG0021:"10.0.0.0/"|}] };
        """) + """

        public static class Networks { public const string Office = "203.0.113.0" + "/" + "40"; }
        """);

    [Fact]
    public Task RG0021_is_silent_for_valid_networks_entries_not_known_at_build_and_other_lists() => VerifyLibrary(Services("""
        services.AddTokenBuckets(o =>
                {
                    o.ExemptNetworks.Add("10.0.0.0/8");
                    o.ExemptNetworks.Add("10.1.2.3/8");
                    o.ExemptNetworks.Add("127.0.0.1");
                    o.ExemptNetworks.Add("0.0.0.0/0");
                    o.ExemptNetworks.Add("::");
                    o.ExemptNetworks.Add("::1");
                    o.ExemptNetworks.Add("::/0");
                    o.ExemptNetworks.Add("FD00::/8");
                    o.ExemptNetworks.Add("::ffff:1.2.3.4");
                    o.ExemptNetworks.Add("2001:db8::1/128");
                    o.ExemptNetworks.Add(System.Environment.GetEnvironmentVariable("OFFICE")!);
                    o.ExemptNetworks.AddRange(Networks.FromConfiguration);
                    o.ExemptNetworks = ["172.16.0.0/12", .. Networks.FromConfiguration];
                    o.ExemptNetworks.Remove("not a network");
                    o.ExemptNetworks.Contains("not a network");
                });
                var unrelated = new Unrelated { ExemptNetworks = { "not a network" } };
        """) + """

        public static class Networks { public static readonly string[] FromConfiguration = ["not checked"]; }

        public sealed class Unrelated { public System.Collections.Generic.List<string> ExemptNetworks { get; } = []; }
        """);

    [Theory]
    [InlineData("10.0.0.0/33", "the prefix length of an IPv4 network is 0 to 32")]
    [InlineData("fd00::/129", "the prefix length of an IPv6 network is 0 to 128")]
    [InlineData("10.0.0.0/", "the prefix length after / is missing")]
    [InlineData("10.0.0.0/x", "the prefix length after / is not a whole number")]
    [InlineData("10.1/16", "an IPv4 address has four parts")]
    [InlineData("300.0.0.0/8", "each part of an IPv4 address is 0 to 255")]
    [InlineData("010.0.0.0/8", "the part 010 has a leading zero, which .NET reads as an octal number")]
    [InlineData("fe80::1%eth0", "a network is written without brackets, port or zone index")]
    [InlineData("localhost", "it is not an IPv4 or IPv6 address")]
    [InlineData("", "it is empty")]
    public async Task RG0021_says_what_is_wrong_and_the_form_to_write(string network, string problem)
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + Services($"services.AddTokenBuckets(o => o.ExemptNetworks.Add(\"{network}\"));"));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(
            ("RG0021", $"Exempt network \"{network}\" is invalid ({problem}): write it as an address and a prefix length in CIDR form, such as 10.0.0.0/8 or fd00::/8, or as a single address"),
            (diagnostic.Id, diagnostic.GetMessage(CultureInfo.InvariantCulture)));
    }
}
