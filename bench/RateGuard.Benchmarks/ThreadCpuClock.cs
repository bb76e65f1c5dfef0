using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace RateGuard.Benchmarks;

/// <summary>
/// The CPU time of the thread that reads it, in nanoseconds (Linux's <c>CLOCK_THREAD_CPUTIME_ID</c>). The benchmark
/// machines are shared: a wall clock counts the moments other processes hold the core as the benchmark's own time, and
/// with several of them queued for two cores that swamps differences of a few per cent. The benchmark thread's own
/// CPU time does not move with them.
/// </summary>
public sealed partial class ThreadCpuClock : IClock
{
    private const int ClockThreadCpuTime = 3;

    public string Title => "Thread CPU time";

    public bool IsAvailable => OperatingSystem.IsLinux();

    public Frequency Frequency => Frequency.GHz;

    public long GetTimestamp()
    {
        if (ClockGetTime(ClockThreadCpuTime, out var time) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");
        }
        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
