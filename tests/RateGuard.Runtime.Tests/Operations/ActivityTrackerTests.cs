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
        Assert.Equal((200L, 0L), (top[0].Rejections, top[0].Uncertain)); // in the table from her first rejection on
        Assert.All(top.Skip(1), c => Assert.Equal(1, c.Rejections));
        Assert.Equal(64, top.Count); // one table of 64 entries holds this minute
    }

    [Fact]
    public void Through_a_flood_of_rotating_values_a_listed_count_never_exceeds_the_true_one_and_the_bound_holds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var tracker = new ActivityTracker(time);
        var truth = new Dictionary<string, long>(StringComparer.Ordinal);
        void Reject(string key)
        {
            tracker.Rejected("b", key);
            truth[key] = truth.GetValueOrDefault(key) + 1;
        }
        string[] heavy = ["mallory", "trudy", "eve"];
        const int perMinute = 20_000;
        // Four minutes of values each rejected once, with three clients rejected again and again among them; each
        // minute's table overflows hundreds of times.
        for (var minute = 0; minute < 4; minute++)
        {
            for (var i = 0; i < perMinute; i++)
            {
                Reject(Spray(minute * perMinute + i));
                for (var h = 0; h < heavy.Length; h++)
                {
                    if (i % (10 << h) == 0)
                    {
                        Reject(heavy[h]);
                    }
                }
            }
            time.Advance(TimeSpan.FromMinutes(1));
        }
        // A quiet fifth minute: the first values of the minute before, which a table of their own minute let go long
        // ago, come back once each and stay listed, with a count of 1 for their 2 rejections.
        for (var i = 0; i < 32; i++)
        {
            Reject(Spray(3 * perMinute + i));
        }
        foreach (var key in heavy)
        {
            Reject(key);
        }

        var top = tracker.TopRejected("b", 1000);

        Assert.Equal(heavy, top.Take(3).Select(c => c.Key));
        Assert.All(top.Take(3), c => Assert.Equal((truth[c.Key], 0L), (c.Rejections, c.Uncertain)));
        Assert.Equal([8_001L, 4_001L, 2_001L], top.Take(3).Select(c => c.Rejections));
        Assert.All(top, c => Assert.InRange(truth[c.Key], c.Rejections, c.Rejections + c.Uncertain));
        Assert.All(top.Skip(3), c => Assert.Equal(1, c.Rejections));
        var back = top.Single(c => c.Key == Spray(3 * perMinute));
        Assert.Equal(2, truth[back.Key]);
        Assert.InRange(back.Uncertain, 1, long.MaxValue); // its minute-old rejection, which no listed table shows
        Assert.InRange(top.Count, 64, 5 * 64); // five tables of at most 64 entries
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

    private static string Spray(int i) => "spray-" + i;
}
