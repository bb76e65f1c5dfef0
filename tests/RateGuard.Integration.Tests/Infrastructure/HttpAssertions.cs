using System.Net;
using System.Text.Json;

namespace RateGuard.Integration.Tests.Infrastructure;

public static class HttpAssertions
{
    public static async Task<HttpResponseMessage> Get(this HttpClient client, string url, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await client.SendAsync(request);
    }

    /// <summary>Sends <paramref name="count"/> requests and returns their status codes.</summary>
    public static async Task<int[]> Statuses(this HttpClient client, string url, int count, params (string Name, string Value)[] headers)
    {
        var statuses = new int[count];
        for (var i = 0; i < count; i++)
        {
            using var response = await client.Get(url, headers);
            statuses[i] = (int)response.StatusCode;
        }
        return statuses;
    }

    public static int[] Repeat(int status, int count) => Enumerable.Repeat(status, count).ToArray();

    public static int[] Then(this int[] first, int status, int count = 1) => [.. first, .. Repeat(status, count)];

    public static string? Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(", ", contentValues)
        : null;

    public static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, body.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("detail").GetString()));
    }
}
