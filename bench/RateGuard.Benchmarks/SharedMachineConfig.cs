using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace RateGuard.Benchmarks;

/// <summary>
/// A job for comparisons of a few per cent on a shared two-core machine, in a few minutes: three processes per benchmark
/// (each lays out its code and heap its own way, which alone moves a result by several per cent), each with 3 warm-up
/// and 10 measured iterations of 250 ms, timed by the benchmark thread's CPU clock (<see cref="ThreadCpuClock"/>).
/// </summary>
public sealed class SharedMachineConfig : ManualConfig
{
    public SharedMachineConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(3)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithClock(new ThreadCpuClock())
            .WithId("SharedMachine"));
    }
}
