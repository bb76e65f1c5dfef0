using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using RateGuard.Configuration;
using RateGuard.Http;
using RateGuard.Stores;

namespace RateGuard.Runtime.Tests.Naming;

public sealed class BucketNameTests
{
    private static RouteEndpoint Endpoint(string template, string? method = "GET", string? displayName = null, object? requiredValues = null)
    {
        var pattern = RoutePatternFactory.Parse(template, defaults: null, parameterPolicies: null, requiredValues: requiredValues);
        var metadata = method is null ? new EndpointMetadataCollection() : new EndpointMetadataCollection(new HttpMethodMetadata([method]));
        return new RouteEndpoint(_ => Task.CompletedTask, pattern, 0, metadata, displayName ?? $"HTTP: {method} {template}");
    }

    [Theory]
    [InlineData("/items/{id}", "GET /items/{id}")]
    [InlineData("/items/{id:int}", "GET /items/{id}")]
    [InlineData("items/{id:int:min(1)}/parts/{part?}", "GET /items/{id}/parts/{part?}")]
    [InlineData("/files/{**path}", "GET /files/{*path}")]
    [InlineData("/", "GET /")]
    [InlineData("/v1/items:batch", "GET /v1/items.batch")]
    [InlineData("/report.{format}", "GET /report.{format}")]
    public void The_default_name_is_the_method_and_the_template_as_written_without_constraints(string template, string expected)
    {
        Assert.Equal(expected, new EndpointBucketName().For(Endpoint(template), 0));
    }

    [Fact]
    public void An_endpoint_without_methods_is_named_by_its_template_alone()
    {
        Assert.Equal("/any/{id}", new EndpointBucketName().For(Endpoint("/any/{id}", method: null), 0));
    }

    [Fact]
    public void A_conventionally_routed_action_has_its_route_values_filled_in()
    {
        var endpoint = Endpoint("{controller=Home}/{action=Index}/{id?}", requiredValues: new { controller = "Reports", action = "Daily" });

        Assert.Equal("GET /Reports/Daily/{id?}", new EndpointBucketName().For(endpoint, 0));
    }

    [Fact]
    public void A_second_limit_on_one_endpoint_is_numbered()
    {
        var names = new EndpointBucketName();
        var endpoint = Endpoint("/items/{id}");

        Assert.Equal(["GET /items/{id}", "GET /items/{id} #2", "GET /items/{id} #3"], [names.For(endpoint, 0), names.For(endpoint, 1), names.For(endpoint, 2)]);
    }

    [Fact]
    public void Two_endpoints_that_would_share_a_name_are_told_apart_by_a_stable_hash_only_for_the_later_one()
    {
        var first = Endpoint("/items/{id:int}", displayName: "items by number");
        var second = Endpoint("/items/{id:alpha}", displayName: "items by slug");

        var names = new EndpointBucketName();
        var a = names.For(first, 0);
        var b = names.For(second, 0);
        var again = new EndpointBucketName();
        again.For(first, 0);

        Assert.Equal("GET /items/{id}", a);
        Assert.Matches("^GET /items/\\{id\\} [0-9a-f]{8}$", b);
        Assert.Equal(b, again.For(second, 0));
        // The same endpoint built again (a reload) keeps its name.
        Assert.Equal(a, names.For(Endpoint("/items/{id:int}", displayName: "items by number"), 0));
    }

    [Fact]
    public void A_name_too_long_for_a_bucket_is_cut_and_keeps_a_hash_of_the_whole()
    {
        var template = "/" + string.Join("/", Enumerable.Range(0, 12).Select(i => "segment" + i));
        var name = new EndpointBucketName().For(Endpoint(template), 0);

        Assert.True(TokenBucketPolicy.IsValidName(name), name);
        Assert.Matches("^GET /segment0/segment1/.* [0-9a-f]{8}$", name);
        Assert.True(TokenBucketPolicy.IsValidName(name + " #2"));
    }

    [Theory]
    [InlineData("GET /items/{id}", "GET_items_id")]
    [InlineData("GET /items/{id} #2", "GET_items_id_2")]
    [InlineData("budget.v2", "budget_v2")]
    [InlineData("search", "search")]
    [InlineData("GET,POST /a--b", "GET_POST_a_b")]
    public void The_environment_form_has_single_underscores_for_runs_of_other_characters(string name, string expected)
    {
        var form = BucketNames.EnvironmentForm(name);

        Assert.Equal(expected, form);
        Assert.DoesNotContain("__", form);
    }

    [Fact]
    public void An_override_is_found_by_exact_name_first_then_by_environment_form_without_case()
    {
        var exact = new TokenBucketOverride { Capacity = 1 };
        var form = new TokenBucketOverride { Capacity = 2 };

        Assert.True(BucketNames.TryGetOverride(new Dictionary<string, TokenBucketOverride> { ["GET /a"] = exact, ["get_a"] = form }, "GET /a", out var found));
        Assert.Same(exact, found);
        Assert.True(BucketNames.TryGetOverride(new Dictionary<string, TokenBucketOverride> { ["get_a"] = form }, "GET /a", out found));
        Assert.Same(form, found);
        Assert.False(BucketNames.TryGetOverride(new Dictionary<string, TokenBucketOverride> { ["get_b"] = form }, "GET /a", out _));
    }

    [Theory]
    [InlineData("search", "search")]
    [InlineData("api/v1.read_write-x", "api/v1.read_write-x")]
    [InlineData("GET /items/{id}", "GET%20/items/%7Bid%7D")]
    [InlineData("50% off", "50%25%20off")]
    public void A_name_is_written_into_a_redis_key_with_other_characters_than_the_declared_set_percent_encoded(string name, string expected)
    {
        Assert.Equal(expected, BucketKey.EncodeName(name));
        Assert.Equal($"rg:{expected}:{{1.2.3.4}}", BucketKey.Compose("rg", name, "1.2.3.4"));
    }

    [Fact]
    public void A_brace_in_a_name_never_becomes_the_keys_cluster_hash_tag()
    {
        var key = BucketKey.Compose("rg", "GET /items/{id}", "client");

        // Redis Cluster hashes the text between the first '{' and the next '}': that must be the client's value.
        var open = key.IndexOf('{');
        Assert.Equal("client", key[(open + 1)..key.IndexOf('}', open)]);
    }

    [Theory]
    [InlineData("GET /items/{id} #2", true)]
    [InlineData("search", true)]
    [InlineData("a:b", false)]
    [InlineData(" leading", false)]
    [InlineData("trailing ", false)]
    [InlineData("tab\there", false)]
    [InlineData("caf\u00e9", false)]
    [InlineData("", false)]
    public void A_bucket_name_is_printable_ascii_without_a_colon(string name, bool valid)
    {
        Assert.Equal(valid, TokenBucketPolicy.IsValidName(name));
    }

    [Fact]
    public void The_settings_configuration_is_checked_against_are_every_bindable_option()
    {
        var bindable = typeof(TokenBucketOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && !typeof(Delegate).IsAssignableFrom(p.PropertyType))
            .Select(p => p.Name).Order().ToArray();
        var overrides = typeof(TokenBucketOverride).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).Order().ToArray();

        Assert.Equal(bindable, TokenBucketConfigurationKeys.Settings.Order().ToArray());
        Assert.Equal(overrides, TokenBucketConfigurationKeys.BucketSettings.Order().ToArray());
    }

    [Theory]
    [InlineData(429, "https://www.rfc-editor.org/rfc/rfc6585#section-4", "Too Many Requests")]
    [InlineData(403, "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.4", "Forbidden")]
    [InlineData(400, "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.1", "Bad Request")]
    [InlineData(417, "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.18", "Expectation Failed")]
    [InlineData(422, "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.21", "Unprocessable Entity")]
    [InlineData(500, "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.1", "Internal Server Error")]
    [InlineData(503, "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4", "Service Unavailable")]
    [InlineData(509, "about:blank", "Status 509")]
    public void The_problem_type_and_title_follow_the_status_code(int status, string type, string title)
    {
        Assert.Equal((type, title), ProblemType.For(status));
    }
}
