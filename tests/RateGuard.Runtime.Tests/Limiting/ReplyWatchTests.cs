using Microsoft.Extensions.Time.Testing;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using StackExchange.Redis;

namespace RateGuard.Runtime.Tests.Limiting;

public sealed class ReplyWatchTests
{
    private static readonly TokenBucketPolicy s_policy = TestPolicies.Create(5, 1);

    [Fact]
    public async Task A_parked_call_is_woken_at_its_time_and_not_a_tick_before()
    {
        var time = new FakeTimeProvider();
        using var watch = new ReplyWatch(time);
        var call = Call();

        var wait = call.WaitAsync(watch, time.GetTimestamp() + TimeSpan.FromMilliseconds(100).Ticks * time.TimestampFrequency / TimeSpan.TicksPerSecond, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.False(await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(call.IsAnswered);
    }

    [Fact]
    public async Task An_answer_ends_the_wait_and_a_later_wait_returns_at_once()
    {
        var time = new FakeTimeProvider();
        using var watch = new ReplyWatch(time);
        var call = Call();

        var wait = call.WaitAsync(watch, time.GetTimestamp() + time.TimestampFrequency, CancellationToken.None);
        call.Answer(new ScriptResult([], 1));

        Assert.True(await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(await call.WaitAsync(watch, 0, CancellationToken.None));
        // The watch's timer finds nothing left to wake.
        time.Advance(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_failed_call_rethrows_its_failure_to_the_caller()
    {
        var call = Call();
        call.Fail(new RedisConnectionException(ConnectionFailureType.SocketClosed, CommandFlags.None, "gone", null, CommandStatus.Sent));
        Assert.True(await call.WaitAsync(null, long.MaxValue, CancellationToken.None));
        Assert.Throws<RedisConnectionException>(() => call.Result);
    }

    [Fact]
    public async Task A_canceled_token_wakes_the_wait_and_an_abandoned_call_is_not_claimed()
    {
        using var cancel = new CancellationTokenSource();
        var call = Call();
        var wait = call.WaitAsync(null, long.MaxValue, cancel.Token);
        cancel.Cancel();

        Assert.False(await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        call.Abandon();
        Assert.False(call.TryClaim());
    }

    [Fact]
    public async Task Many_calls_with_different_times_are_each_woken_at_their_own()
    {
        var time = new FakeTimeProvider();
        using var watch = new ReplyWatch(time);
        var start = time.GetTimestamp();
        var millisecond = time.TimestampFrequency / 1000;
        var calls = Enumerable.Range(1, 5).Select(i => (Call: Call(), At: i * 10)).ToList();
        var waits = calls.Select(c => c.Call.WaitAsync(watch, start + c.At * millisecond, CancellationToken.None).AsTask()).ToList();
        // One of them is answered before its time: it is not woken, and the others still are.
        calls[2].Call.Answer(new ScriptResult([], 1));

        for (var ms = 1; ms <= 50; ms++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            for (var i = 0; i < calls.Count; i++)
            {
                if (i != 2 && calls[i].At == ms)
                {
                    Assert.False(await waits[i].WaitAsync(TimeSpan.FromSeconds(30)));
                }
                else if (i != 2 && calls[i].At > ms)
                {
                    Assert.False(waits[i].IsCompleted, $"Call {i} was woken at {ms} ms, before its time of {calls[i].At} ms.");
                }
            }
        }
        Assert.True(await waits[2]);
    }

    private static PendingCall Call() => new([(RedisKey)"k"], [new BucketCharge(s_policy, 1, 0)], 0, batched: false, TimeSpan.Zero);
}
