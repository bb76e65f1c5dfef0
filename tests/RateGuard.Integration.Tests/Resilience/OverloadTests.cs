using System.Diagnostics;
using System.Text.RegularExpressions;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Integration.Tests.Process;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Integration.Tests.Resilience;

/// <summary>
/// The app pinned to one core and flooded through 3,000 connections, with Redis and the load on the other core: Redis
/// answers in time, the app reads the answers late. Late is not failed, so the limit holds.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[Collection(TimingCollection.Name)]
public sealed partial class OverloadTests(ITestOutputHelper output)
{
    private const int Capacity = 10;
    private const double Rate = 1;

    // Counts responses by status, and the 200s that carry no RateLimit header: those were admitted by the failure
    // mode, not by a bucket.
    private const string CountScript = """
        local threads = {}
        function setup(thread) table.insert(threads, thread) end
        function init(args) counts = {} unlimited = 0 end
        function response(status, headers, body)
          counts[status] = (counts[status] or 0) + 1
          if status == 200 and headers["RateLimit"] == nil then unlimited = unlimited + 1 end
        end
        function done(summary, latency, requests)
          local total, free = {}, 0
          for _, thread in ipairs(threads) do
            for status, n in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + n end
            free = free + thread:get("unlimited")
          end
          local line = "statuses"
          for status, n in pairs(total) do line = line .. " " .. status .. "=" .. n end
          io.write(line .. "\nunlimited " .. free .. "\n")
        end
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_app_flooded_on_one_core_keeps_the_limit_with_almost_no_failure_mode_and_a_readable_log(bool denyCache)
    {
        using var redis = RedisServer.Start();
        Pin(redis.ProcessId, "1");
        await using var app = await SampleProcess.StartAsync(Path.Combine(AppContext.BaseDirectory, "MinimalApi.dll"),
            $"--TokenBuckets:Redis=127.0.0.1:{redis.Port}", $"--TokenBuckets:Buckets:GET_ping:Rate={Rate}", $"--TokenBuckets:DenyCache={denyCache}",
            "--Logging:LogLevel:Default=Warning");
        Pin(app.ProcessId, "0");
        redis.Command("FLUSHALL");
        var script = Path.GetTempFileName();
        await File.WriteAllTextAsync(script, CountScript);
        try
        {
            var clock = Stopwatch.StartNew();
            // The load generator yields its core to Redis when Redis has work: the point is an app that is behind, and
            // Redis starved by the generator would be another test.
            var result = Run("nice", ["-n", "10", "taskset", "-c", "1", "wrk", "-t1", "-c3000", "-d10s", "--timeout", "10s", "-s", script, new Uri(app.BaseAddress, "/ping").ToString()]);
            var elapsed = clock.Elapsed.TotalSeconds;
            var statuses = StatusCounts().Matches(result).ToDictionary(m => int.Parse(m.Groups[1].Value), m => long.Parse(m.Groups[2].Value));
            var requests = statuses.Values.Sum();
            var admitted = statuses.GetValueOrDefault(200);
            var failedOpen = long.Parse(Unlimited().Match(result).Groups[1].Value);
            var warnings = app.Output.Split('\n').Count(l => l.StartsWith("warn:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal));
            var bound = Capacity + Rate * elapsed;
            // A warning's first line names its category; the next says what happened.
            var lines = app.Output.Split('\n');
            output.WriteLine(string.Join("\n", lines.Select((l, i) => (l, i)).Where(p => p.l.StartsWith("warn:", StringComparison.Ordinal) || p.l.StartsWith("fail:", StringComparison.Ordinal))
                .Take(5).SelectMany(p => lines.Skip(p.i).Take(2))));
            output.WriteLine($"deny cache {denyCache}: {requests} requests, {admitted} admitted against an exact bound of {bound:F1}, {failedOpen} by the failure mode, {warnings} log warnings");

            Assert.True(requests > 10_000, $"Only {requests} requests were made; the app was not flooded.");
            Assert.True(admitted <= bound + Capacity, $"{admitted} admitted against a bound of {bound:F1}.");
            Assert.True(failedOpen <= requests / 1000, $"{failedOpen} of {requests} requests got the failure mode.");
            Assert.True(warnings <= 20, $"{warnings} warnings were logged:\n{app.Output}");
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static void Pin(int processId, string cores) => Run("taskset", ["-a", "-cp", cores, processId.ToString()]);

    private static string Run(string file, string[] arguments)
    {
        var (exitCode, text) = SampleBuild.Run(file, arguments, TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, $"{file} {string.Join(' ', arguments)} failed with {exitCode}:\n{text}");
        return text;
    }

    [GeneratedRegex(@"\b(\d{3})=(\d+)")]
    private static partial Regex StatusCounts();

    [GeneratedRegex(@"unlimited (\d+)")]
    private static partial Regex Unlimited();
}
