using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace RateGuard.Benchmarks;

/// <summary>
/// A job for comparisons of a few per cent on a shared two-core machine, in a few minutes: one process per benchmark,
/// 5 warm-up and 20 measured iterations of 250 ms, timed by the benchmark thread's CPU clock (<see cref="ThreadCpuClock"/>).
/// </summary>
public sealed class SharedMachineConfig : ManualConfig
{
    public SharedMachineConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(5)
            .WithIterationCount(20)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithClock(new ThreadCpuClock())
            .WithId("SharedMachine"));
    }
}
