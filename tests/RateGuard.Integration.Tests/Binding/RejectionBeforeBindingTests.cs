using System.Net;
using System.Net.Http.Json;

namespace RateGuard.Integration.Tests.Binding;

public sealed class RejectionBeforeBindingTests
{
    [Fact]
    public Task A_rejected_minimal_api_post_never_constructs_its_body() =>
        AssertRejectedPostsNeverBind("/minimal/bind", () => CountedBody.Constructions);

    [Fact]
    public Task A_rejected_mvc_post_never_constructs_its_body() =>
        AssertRejectedPostsNeverBind("/mvc/bind", () => CountedMvcBody.Constructions);

    private static async Task AssertRejectedPostsNeverBind(string path, Func<int> constructions)
    {
        await using var app = await TestApp.StartAsync();

        using var admitted = await app.Client.PostAsJsonAsync(path, new { name = "first" });
        var afterAdmitted = constructions();
        var rejected = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await app.Client.PostAsJsonAsync(path, new { name = "flood" });
            rejected.Add(response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(1, afterAdmitted);
        Assert.All(rejected, status => Assert.Equal(HttpStatusCode.TooManyRequests, status));
        Assert.Equal(afterAdmitted, constructions());
    }
}
