using System.Text.Json;
using RateGuard.Operations;

namespace RateGuard.Http.Admin;

/// <summary>
/// The JSON bodies of <c>GET buckets</c>, <c>GET inspect</c> and <c>GET overrides</c>: camelCase names, enums as their names, times as
/// ISO 8601 and durations in seconds, the same shape whatever the store.
/// </summary>
internal static class AdminJson
{
    /// <summary>
    /// <c>{ "windowSeconds", "servers": [{ "server", "circuit" }], "instances", "buckets": [{ "name", "capacity", "rate", "cost",
    /// "failureMode", "mode", "admitted", "rejected", "shadowRejected", "admittedPerSecond", "rejectedPerSecond", "topRejected": [{ "key",
    /// "rejections", "uncertain", "lastRejected", "hashed" }] }] }</c>: a client was rejected at least "rejections" and at
    /// most "rejections" + "uncertain" times.
    /// </summary>
    public static void WriteSnapshot(Utf8JsonWriter json, AdminSnapshot snapshot)
    {
        json.WriteStartObject();
        json.WriteNumber("windowSeconds", TokenBucketActivity.Window.TotalSeconds);
        json.WriteStartArray("servers");
        foreach (var server in snapshot.Servers)
        {
            json.WriteStartObject();
            json.WriteString("server", server.Server);
            json.WriteString("circuit", server.Circuit.ToString());
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNumber("instances", snapshot.Instances);
        json.WriteStartArray("buckets");
        foreach (var bucket in snapshot.Buckets)
        {
            WriteBucket(json, bucket);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary><c>{ "bucket", "key", "tokens", "capacity", "rate", "timeToFullSeconds", "debt" }</c></summary>
    public static void WriteState(Utf8JsonWriter json, TokenBucketState state)
    {
        json.WriteStartObject();
        json.WriteString("bucket", state.Bucket);
        json.WriteString("key", state.Key);
        json.WriteNumber("tokens", state.Tokens);
        json.WriteNumber("capacity", state.Capacity);
        json.WriteNumber("rate", state.Rate);
        json.WriteNumber("timeToFullSeconds", state.TimeToFull.TotalSeconds);
        json.WriteNumber("debt", state.Debt);
        json.WriteEndObject();
    }

    /// <summary>
    /// <c>[{ "bucket", "key", "capacity", "rate", "expiresAt", "expiresAfterSeconds" }]</c>: each client override, its
    /// expiry in UTC and the seconds left until it as of <paramref name="now"/>.
    /// </summary>
    public static void WriteOverrides(Utf8JsonWriter json, IReadOnlyList<TokenBucketClientOverride> overrides, DateTimeOffset now)
    {
        json.WriteStartArray();
        foreach (var entry in overrides)
        {
            json.WriteStartObject();
            json.WriteString("bucket", entry.Bucket);
            json.WriteString("key", entry.Key);
            json.WriteNumber("capacity", entry.Capacity);
            json.WriteNumber("rate", entry.Rate);
            json.WriteString("expiresAt", entry.ExpiresAt.UtcDateTime);
            json.WriteNumber("expiresAfterSeconds", Math.Max(0, Math.Round((entry.ExpiresAt - now).TotalSeconds, 3)));
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void WriteBucket(Utf8JsonWriter json, AdminBucket bucket)
    {
        var summary = bucket.Summary;
        json.WriteStartObject();
        json.WriteString("name", summary.Name);
        json.WriteNumber("capacity", summary.Capacity);
        json.WriteNumber("rate", summary.Rate);
        json.WriteNumber("cost", summary.Cost);
        json.WriteString("failureMode", summary.FailureMode.ToString());
        json.WriteString("mode", summary.Mode.ToString());
        json.WriteNumber("admitted", summary.Activity.Admitted);
        json.WriteNumber("rejected", summary.Activity.Rejected);
        json.WriteNumber("shadowRejected", summary.Activity.ShadowRejected);
        json.WriteNumber("admittedPerSecond", summary.Activity.AdmittedPerSecond);
        json.WriteNumber("rejectedPerSecond", summary.Activity.RejectedPerSecond);
        json.WriteStartArray("topRejected");
        foreach (var client in bucket.TopRejected)
        {
            json.WriteStartObject();
            json.WriteString("key", client.Key);
            json.WriteNumber("rejections", client.Rejections);
            json.WriteNumber("uncertain", client.Uncertain);
            json.WriteString("lastRejected", client.LastRejected);
            json.WriteBoolean("hashed", client.IsHashed);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
