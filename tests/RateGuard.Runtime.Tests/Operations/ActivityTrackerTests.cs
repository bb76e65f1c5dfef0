using Microsoft.Extensions.Time.Testing;
using RateGuard.Limiting;
using RateGuard.Operations;

namespace RateGuard.Runtime.Tests.Operations;

/// <summary>The window behind bucket activity and top rejected clients, on a clock moved by hand.</summary>
public sealed class ActivityTrackerTests
{
    private static readonly TimeSpan s_step = TokenBucketActivity.Window / 30;

    [Fact]
    public void Counts_cover_the_last_five_minutes_in_ten_second_steps_and_then_fall_out()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var tracker = new ActivityTracker(time);
        tracker.Admitted("b");
        tracker.Rejected("b", "k");
        time.Advance(s_step);
        tracker.Admitted("b");

        var both = tracker.Activity("b");
        time.Advance(TokenBucketActivity.Window - s_step); // the first step's slot is reused: its counts are gone
        var later = tracker.Activity("b");
        time.Advance(s_step);
        var none = tracker.Activity("b");

        Assert.Equal(new TokenBucketActivity(2, 1), both);
        Assert.Equal(new TokenBucketActivity(1, 0), later);
        Assert.Equal(new TokenBucketActivity(0, 0), none);
        Assert.Equal(new TokenBucketActivity(0, 0), tracker.Activity("never"));
    }

    [Fact]
    public void A_client_that_keeps_being_rejected_stays_on_top_through_a_flood_of_one_off_values_and_memory_stays_bounded()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var tracker = new ActivityTracker(time);
        for (var i = 0; i < 10_000; i++)
        {
            tracker.Rejected("b", "spray-" + i);
            if (i % 50 == 0)
            {
                tracker.Rejected("b", "mallory");
            }
        }

        var top = tracker.TopRejected("b", 1000);

        Assert.Equal("mallory", top[0].Key);
        Assert.True(top[0].Rejections >= 200, $"mallory counted {top[0].Rejections} times");
        Assert.Equal(64, top.Count); // one table of 64 entries holds this minute
    }

    [Fact]
    public void Rejected_clients_are_forgotten_once_their_minute_leaves_the_window()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var tracker = new ActivityTracker(time);
        tracker.Rejected("b", "early");
        time.Advance(TimeSpan.FromMinutes(1));
        tracker.Rejected("b", "later");

        var both = tracker.TopRejected("b", 10).Select(c => c.Key).ToArray();
        time.Advance(TokenBucketActivity.Window - TimeSpan.FromMinutes(1));
        var after = tracker.TopRejected("b", 10).Select(c => c.Key).ToArray();

        Assert.Equal(["early", "later"], both);
        Assert.Equal(["later"], after);
    }
}
