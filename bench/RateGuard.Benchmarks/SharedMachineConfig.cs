using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace RateGuard.Benchmarks;

/// <summary>
/// A job for comparisons of a few per cent on a shared two-core machine, in about five minutes: ten processes per
/// benchmark, each with 2 warm-up and 4 measured iterations of 250 ms, timed by the benchmark thread's CPU clock (<see cref="ThreadCpuClock"/>).
/// </summary>
public sealed class SharedMachineConfig : ManualConfig
{
    // One process can run the same request nearly twice as slowly as another, from its first iteration to its last,
    // the baseline's as much as any, and such processes come several in a row, so it looks like a passing state of the
    // shared machine: many short processes rather than a few long ones, and the median beside the mean.
    public SharedMachineConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(10)
            .WithWarmupCount(2)
            .WithIterationCount(4)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithClock(new ThreadCpuClock())
            .WithId("SharedMachine"));
        AddColumn(StatisticColumn.Median);
    }
}
