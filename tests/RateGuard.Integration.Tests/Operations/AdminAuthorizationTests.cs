using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Operations;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>Every admin route answers only users the policy admits: 401 to no one, 403 to the wrong someone.</summary>
public sealed class AdminAuthorizationTests
{
    public static TheoryData<string, string> Routes() => new()
    {
        { "GET", "" },
        { "GET", "buckets" },
        { "GET", "inspect?bucket=GET%20%2Fitems%2F%7Bid%7D&key=alice" },
        { "POST", "reset" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_request_without_credentials_is_challenged_with_401(string method, string route)
    {
        var fake = new FakeTokenBucketOperations();
        await using var app = await StartAsync(fake);

        using var response = await app.AdminAsync(new HttpMethod(method), route, Body(method), user: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(fake.Resets);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_signed_in_user_the_policy_does_not_admit_is_forbidden_with_403(string method, string route)
    {
        var fake = new FakeTokenBucketOperations();
        await using var app = await StartAsync(fake);

        using var response = await app.AdminAsync(new HttpMethod(method), route, Body(method), user: "mallory", roles: "developer");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(fake.Resets);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task An_operator_the_policy_admits_is_served(string method, string route)
    {
        var fake = new FakeTokenBucketOperations();
        await using var app = await StartAsync(fake);

        using var response = await app.AdminAsync(new HttpMethod(method), route, Body(method));

        Assert.True(response.IsSuccessStatusCode, $"{method} {route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(method == "POST" ? 1 : 0, fake.Resets.Count);
    }

    private static string? Body(string method) => method == "POST" ? """{"bucket": "GET /items/{id}", "key": "alice"}""" : null;

    private static Task<AdminApp> StartAsync(FakeTokenBucketOperations fake) =>
        AdminApp.StartAsync(services => services.AddSingleton<ITokenBucketOperations>(fake));
}
