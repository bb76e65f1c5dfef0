using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using RateGuard.Configuration;
using RateGuard.Limiting;
using RateGuard.Operations;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Runtime.Tests.Startup;

/// <summary>What the app says at startup about Redis, and the ways of reaching it that docs/redis.md documents.</summary>
public sealed class RedisStartupTests
{
    /// <summary>The ACL of a least-privilege RateGuard user, exactly as "Securing Redis" in docs/redis.md gives it.</summary>
    public const string DocumentedAcl = "on >rateguard-secret resetkeys ~rg:* resetchannels &rg:resets &rg:overrides -@all +evalsha +eval +get +set +time +unlink +publish +subscribe +zadd +zrem +zremrangebyscore +zcard +pexpire +hget +hgetall +hset +hdel +hlen +hincrby +ping +echo +info +cluster|nodes";

    [Fact]
    public async Task Unreachable_redis_is_named_in_a_warning_at_startup_and_its_connection_is_logged_when_made()
    {
        var port = RedisServer.FreePort();
        await using var app = await StartAsync(o => o.Redis = $"127.0.0.1:{port}");

        var warning = Assert.Single(app.Logs.GetSnapshot(), l => l.Id.Name == "RedisUnreachable");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains($"127.0.0.1:{port}", warning.Message);

        using var server = RedisServer.Start(port);
        await Eventually.Until(() => app.Logs.GetSnapshot().Any(l => l.Id.Name == "RedisConnected"), "the connection is logged");
        Assert.Contains($"127.0.0.1:{port}", app.Logs.GetSnapshot().Single(l => l.Id.Name == "RedisConnected").Message);
    }

    [Theory]
    [InlineData("garbage ,,=:&", "'=:&' is neither an endpoint")]
    [InlineData(",,,", "names no endpoint")]
    [InlineData("localhost:99999", "'localhost:99999' is not an endpoint")]
    [InlineData("localhost:6379,notAnOption=1", "notAnOption")]
    public async Task A_configuration_string_with_no_usable_endpoint_stops_the_app_saying_why(string configuration, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(o => o.Redis = configuration));

        Assert.Contains("TokenBuckets:Redis", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task A_password_protected_redis_is_used_with_the_password_in_the_configuration()
    {
        using var server = RedisServer.Start("--requirepass", "s3cret");
        await using var app = await StartAsync(o => o.Redis = $"127.0.0.1:{server.Port},password=s3cret");

        Assert.Equal(DecisionSource.Store, (await app.Acquire()).Source);
        Assert.DoesNotContain(app.Logs.GetSnapshot(), l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_user_with_exactly_the_documented_permissions_runs_everything_including_the_instance_heartbeat()
    {
        using var server = RedisServer.Start();
        server.Command(["ACL", "SETUSER", "rateguard", .. DocumentedAcl.Split(' ')]);
        await using var app = await StartAsync(o =>
        {
            o.Redis = $"127.0.0.1:{server.Port},user=rateguard,password=rateguard-secret";
        });

        Assert.Equal(DecisionSource.Store, (await app.Acquire()).Source);
        await Eventually.Until(() => app.Operations.GetInstanceCount() == 1 && server.Command("ZCARD", "rg:instances").StartsWith(":1", StringComparison.Ordinal), "the heartbeat is counted");
        // An operator's reset: the bucket's key deleted, and the reset published to every instance.
        var policy = TestPolicies.Create(5, 0.01);
        for (var i = 0; i < 3; i++)
        {
            await app.Limiter.AcquireAsync(policy, FailureMode.Open, "client", CancellationToken.None);
        }
        app.Configured.Of(policy);
        await app.Operations.ResetAsync(policy.Name, "client");
        var afterReset = await app.Limiter.AcquireAsync(policy, FailureMode.Open, "client", CancellationToken.None);
        Assert.Equal((DecisionSource.Store, 4L), (afterReset.Source, afterReset.Decision.Remaining));
        // A client override: written by its script, published, read back, and polled by the instance.
        await app.Operations.SetOverrideAsync(policy.Name, "client", 10, 1, TimeSpan.FromMinutes(1));
        Assert.Equal(["client"], (await app.Operations.GetOverridesAsync()).Select(o => o.Key));
        Assert.True(await app.Operations.RemoveOverrideAsync(policy.Name, "client"));
        await Task.Delay(RateGuard.Clients.ClientOverrideSync.Interval * 2);
        Assert.Contains(app.Logs.GetSnapshot(), l => l.Id.Name == "ScriptChecked");
        Assert.DoesNotContain(app.Logs.GetSnapshot(), l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_user_that_may_not_run_time_gets_an_error_at_startup_naming_time()
    {
        using var server = RedisServer.Start();
        server.Command(["ACL", "SETUSER", "rateguard", .. DocumentedAcl.Replace(" +time", "").Split(' ')]);
        await using var app = await StartAsync(o => o.Redis = $"127.0.0.1:{server.Port},user=rateguard,password=rateguard-secret");

        var error = Assert.Single(app.Logs.GetSnapshot(), l => l.Id.Name == "ScriptCannotRun");
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.Contains("may not run the TIME command", error.Message);
        Assert.Contains("Securing Redis", error.Message);
    }

    [Fact]
    public async Task A_tls_redis_is_used_with_a_ca_the_machine_does_not_trust()
    {
        var certificates = Directory.CreateTempSubdirectory("rateguard-tls-").FullName;
        try
        {
            OpenSsl(certificates, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=RateGuard test CA");
            OpenSsl(certificates, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
            File.WriteAllText(Path.Combine(certificates, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
            OpenSsl(certificates, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "san.ext");
            var tlsPort = RedisServer.FreePort();
            using var server = RedisServer.Start("--tls-port", tlsPort.ToString(), "--tls-auth-clients", "no",
                "--tls-cert-file", Path.Combine(certificates, "server.crt"), "--tls-key-file", Path.Combine(certificates, "server.key"), "--tls-ca-cert-file", Path.Combine(certificates, "ca.crt"));

            await using var app = await StartAsync(o =>
            {
                o.Redis = $"127.0.0.1:{tlsPort},ssl=true,sslHost=localhost";
                o.RedisCaCertificate = Path.Combine(certificates, "ca.crt");
            });

            Assert.Equal(DecisionSource.Store, (await app.Acquire()).Source);

            // Without the CA, the server's certificate is refused: Redis decides nothing (the instance enforces its share of
            // the limit meanwhile), and startup says so.
            await using var untrusting = await StartAsync(o => o.Redis = $"127.0.0.1:{tlsPort},ssl=true,sslHost=localhost");
            Assert.Equal(DecisionSource.LocalFallback, (await untrusting.Acquire()).Source);
            Assert.Contains(untrusting.Logs.GetSnapshot(), l => l.Id.Name == "RedisUnreachable");
        }
        finally
        {
            Directory.Delete(certificates, recursive: true);
        }
    }

    private static void OpenSsl(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl") { WorkingDirectory = directory, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', arguments)} failed: {error}");
    }

    private static async Task<TestHost> StartAsync(Action<TokenBucketOptions> configure)
    {
        var host = new HostBuilder()
            .ConfigureLogging(logging => logging.AddFakeLogging().SetMinimumLevel(LogLevel.Debug))
            .ConfigureServices(services => services.AddTokenBuckets(configure))
            .Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new TestHost(host);
    }

    private sealed class TestHost(IHost host) : IAsyncDisposable
    {
        public FakeLogCollector Logs => host.Services.GetRequiredService<FakeLogCollector>();

        internal TokenBucketLimiter Limiter => host.Services.GetRequiredService<TokenBucketLimiter>();

        internal ConfiguredPolicies Configured => host.Services.GetRequiredService<ConfiguredPolicies>();

        public ITokenBucketOperations Operations => host.Services.GetRequiredService<ITokenBucketOperations>();

        internal ValueTask<LimiterResult> Acquire() => Limiter.AcquireAsync(TestPolicies.Create(5, 1), FailureMode.Open, "client", CancellationToken.None);

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync();
            host.Dispose();
        }
    }
}
