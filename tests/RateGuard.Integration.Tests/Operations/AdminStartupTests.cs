using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// Mistakes in mapping the admin endpoints stop the app where MapTokenBucketAdmin is called, at startup, rather than
/// leaving the endpoints open or failing the first operator who opens them.
/// </summary>
public sealed class AdminStartupTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public async Task A_missing_policy_name_is_an_argument_error_because_there_is_no_anonymous_default(string? policy)
    {
        await using var app = Build(authorization: true);

        var error = Assert.ThrowsAny<ArgumentException>(() => app.MapTokenBucketAdmin("/admin/rate-limits", policy!));

        Assert.Equal("authorizationPolicy", error.ParamName);
        Assert.Contains("no anonymous default", error.Message);
        Assert.Contains("AddAuthorization(o => o.AddPolicy(", error.Message);
    }

    [Fact]
    public async Task A_policy_the_app_does_not_declare_is_named_in_the_error_with_the_fix()
    {
        await using var app = Build(authorization: true);

        var error = Assert.Throws<InvalidOperationException>(() => app.MapTokenBucketAdmin("/admin/rate-limits", "rate-limit-admn"));

        Assert.Contains("\"rate-limit-admn\"", error.Message);
        Assert.Contains("does not know", error.Message);
        Assert.Contains("builder.Services.AddAuthorization(o => o.AddPolicy(\"rate-limit-admn\",", error.Message);
    }

    [Fact]
    public async Task Without_authorization_services_the_error_says_to_register_them_with_the_policy()
    {
        await using var app = Build(authorization: false);

        var error = Assert.Throws<InvalidOperationException>(() => app.MapTokenBucketAdmin("/admin/rate-limits", AdminApp.Policy));

        Assert.Contains("needs authorization services", error.Message);
        Assert.Contains($"builder.Services.AddAuthorization(o => o.AddPolicy(\"{AdminApp.Policy}\",", error.Message);
    }

    [Fact]
    public async Task A_declared_policy_maps_the_endpoints()
    {
        await using var app = Build(authorization: true);

        var group = app.MapTokenBucketAdmin("/admin/rate-limits", AdminApp.Policy);

        Assert.NotNull(group);
    }

    [Fact]
    public async Task Without_token_buckets_the_error_says_to_add_them()
    {
        await using var app = Build(authorization: true, tokenBuckets: false);

        var error = Assert.Throws<InvalidOperationException>(() => app.MapTokenBucketAdmin("/admin/rate-limits", AdminApp.Policy));

        Assert.Contains("AddTokenBuckets(", error.Message);
    }

    private static WebApplication Build(bool authorization, bool tokenBuckets = true)
    {
        // The empty builder registers nothing by itself, so "no authorization services" means none.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseTestServer();
        builder.Services.AddRouting();
        builder.Services.AddLogging();
        if (tokenBuckets)
        {
            builder.Services.AddTokenBuckets();
        }
        if (authorization)
        {
            builder.Services.AddAuthorization(o => o.AddPolicy(AdminApp.Policy, p => p.RequireRole(AdminTestAuthentication.OperatorRole)));
        }
        return builder.Build();
    }
}
