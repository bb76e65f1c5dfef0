using Microsoft.CodeAnalysis;
using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>
/// RG0003, RG0004 and RG0007 on every form a limit takes: an attribute on a handler, metadata on an endpoint or a group,
/// <c>RequireTokenBucket</c> on an endpoint or a group, and an attribute on a controller or an action. RG0014 on the
/// forms that can set PerEndpoint.
/// </summary>
public sealed class KeyChecksOnEveryFormTests
{
    [Fact]
    public Task RG0003_an_invalid_key_is_an_error_on_every_form() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Key = {|RG0003:"cookie:a"|})] () => "a");
                app.MapGet("/b", () => "b").WithMetadata(new TokenBucketAttribute(5, 1) { Key = {|RG0003:"cookie:b"|} });
                app.MapGroup("/c").WithMetadata(new TokenBucketAttribute(5, 1) { Key = {|RG0003:"cookie:c"|} });
                app.MapGet("/d", () => "d").RequireTokenBucket(5, 1, key: {|RG0003:"cookie:d"|});
                app.MapGroup("/e").RequireTokenBucket(5, 1, key: {|RG0003:"cookie:e"|});
        """) + """

        [ApiController]
        [Route("f")]
        [TokenBucket(5, 1, Key = {|RG0003:"cookie:f"|})]
        public sealed class FController : ControllerBase
        {
            [HttpGet]
            [TokenBucket(5, 1, Key = {|RG0003:"cookie:g"|})]
            public string Get() => "g";
        }
        """);

    [Fact]
    public Task RG0004_a_group_limit_keyed_on_a_route_value_some_of_its_endpoints_lack_is_an_error() => VerifyLibrary(Routes("""
        var orders = app.MapGroup("/orders").RequireTokenBucket(5, 1, key: {|RG0004:"route:id"|});
                orders.MapGet("/{id}", (string id) => id);
                orders.MapGet("/", () => "all");
                var metadata = app.MapGroup("/m").WithMetadata(new TokenBucketAttribute(5, 1) { Key = {|RG0004:"route:id"|} });
                metadata.MapGet("/list", () => "list");
                app.MapGroup("/chained").RequireTokenBucket(5, 1, key: {|RG0004:"route:id"|}).MapGet("/list", () => "list");
                var api = app.MapGroup("/api");
                api.RequireTokenBucket(5, 1, key: {|RG0004:"route:tenant"|});
                api.MapGet("/status", () => "status");
                var tenant = api.MapGroup("/t/{tenant}").RequireTokenBucket(5, 1, key: "route:tenant");
                tenant.MapGet("/orders", (string tenant) => tenant);
        """));

    [Fact]
    public Task RG0004_is_silent_when_the_prefix_or_every_endpoint_of_the_group_has_the_value_or_the_prefix_is_unknown() => VerifyLibrary(Routes("""
        app.MapGroup("/t/{tenant}").RequireTokenBucket(5, 1, key: "route:tenant").MapGet("/x", () => "x");
                var items = app.MapGroup("/items");
                items.RequireTokenBucket(5, 1, key: "route:id");
                items.MapGet("/{id}", (string id) => id);
                items.MapDelete("/{id:int}", (int id) => id);
                var empty = app.MapGroup("/empty").RequireTokenBucket(5, 1, key: "route:id");
        """) + """

        public static class Elsewhere
        {
            public static void Map(Microsoft.AspNetCore.Routing.RouteGroupBuilder group)
            {
                group.RequireTokenBucket(5, 1, key: "route:id");
                group.MapGet("/x", () => "x");
            }
        }
        """);

    [Fact]
    public Task RG0007_a_user_key_on_a_group_whose_endpoints_anonymous_callers_reach_warns() => VerifyLibrary(Routes("""
        var todos = app.MapGroup("/todos").RequireTokenBucket(100, 10, key: {|RG0007:"user"|});
                todos.MapGet("/", () => "all");
                todos.MapGet("/{id}", (string id) => id).RequireAuthorization();
                app.MapGroup("/open").AllowAnonymous().RequireAuthorization().RequireTokenBucket(5, 1, key: {|RG0007:"claim:sub"|});
                app.MapGroup("/m").WithMetadata(new TokenBucketAttribute(5, 1) { Key = {|RG0007:"user"|} }).MapGet("/x", () => "x");
                var plain = app.MapGroup("/plain");
                plain.MapGet("/me", [TokenBucket(5, 1, Key = {|RG0007:"user"|})] () => "me");
        """));

    [Fact]
    public Task RG0007_is_silent_when_the_group_or_every_endpoint_requires_authorization_or_the_group_goes_out_of_sight() => VerifyLibrary(Routes("""
        app.MapGroup("/a").RequireAuthorization().RequireTokenBucket(5, 1, key: "user").MapGet("/x", () => "x");
                var b = app.MapGroup("/b").RequireTokenBucket(5, 1, key: "user");
                b.RequireAuthorization();
                b.MapGet("/x", () => "x");
                var c = app.MapGroup("/c").RequireTokenBucket(5, 1, key: "user");
                c.MapGet("/x", () => "x").RequireAuthorization();
                c.MapGet("/y", [Authorize] () => "y");
                var d = app.MapGroup("/d").RequireTokenBucket(5, 1, key: "user");
                d.MapGet("/x", () => "x");
                Secure(d);
                var outer = app.MapGroup("/outer").RequireAuthorization();
                var inner = outer.MapGroup("/inner").RequireTokenBucket(5, 1, key: "user");
                inner.MapGet("/x", () => "x");
                var kept = app.MapGroup("/kept");
                kept.MapGet("/me", [TokenBucket(5, 1, Key = "user")] () => "me").RequireAuthorization();
            }

            private static void Secure(Microsoft.AspNetCore.Routing.RouteGroupBuilder group) => group.RequireAuthorization();

            private static void Unused()
            {
        """) + """

        public static class TodoRoutes
        {
            // Called with a group that the caller may authorize: out of sight here.
            public static Microsoft.AspNetCore.Routing.RouteGroupBuilder MapTodos(this Microsoft.AspNetCore.Routing.IEndpointRouteBuilder routes)
            {
                var group = routes.MapGroup("/todos");
                group.RequireTokenBucket(100, 10, key: "user");
                group.MapGet("/", () => "all");
                return group;
            }
        }
        """);

    [Fact]
    public Task RG0007_a_user_key_on_a_controller_reached_anonymously_warns() => VerifyLibrary("""
        [ApiController]
        [Route("open")]
        [TokenBucket(5, 1, Key = {|RG0007:"user"|})]
        public sealed class OpenController : ControllerBase
        {
            [HttpGet]
            public string Get() => "open";
        }

        [ApiController]
        [Route("secure")]
        [Authorize]
        [TokenBucket(5, 1, Key = "claim:sub")]
        public sealed class SecureController : ControllerBase
        {
            [HttpGet]
            public string Get() => "secure";
        }
        """);

    [Fact]
    public Task RG0014_PerEndpoint_with_a_Bucket_name_is_an_error() => VerifyLibrary(Routes("""
        app.MapGroup("/a").RequireTokenBucket(5, 1, bucket: "a", perEndpoint: {|RG0014:true|});
                app.MapGroup("/b").RequireTokenBucket(5, 1, perEndpoint: true);
                app.MapGroup("/c").RequireTokenBucket(5, 1, bucket: "c", perEndpoint: false);
        """) + """

        [ApiController]
        [Route("d")]
        [TokenBucket(5, 1, Bucket = "d", PerEndpoint = {|RG0014:true|})]
        public sealed class DController : ControllerBase
        {
            [HttpGet]
            public string Get() => "d";
        }
        """);

    [Fact]
    public async Task The_messages_on_a_group_or_controller_limit_say_whether_its_endpoints_share_its_bucket()
    {
        var source = Usings + Routes("""
            var shared = app.MapGroup("/shared").RequireTokenBucket(5, 1, key: "user");
                    shared.MapGet("/x", () => "x");
                    var each = app.MapGroup("/each").RequireTokenBucket(5, 1, key: "route:id", perEndpoint: true);
                    each.MapGet("/x", () => "x");
            """) + """

            [ApiController]
            [Route("orders")]
            [TokenBucket(5, 1, Key = "user")]
            public sealed class OrdersController : ControllerBase
            {
                [HttpGet]
                public string List() => "list";
            }

            [ApiController]
            [Route("invoices")]
            [TokenBucket(5, 1, Key = "route:id", PerEndpoint = true)]
            public sealed class InvoicesController : ControllerBase
            {
                [HttpGet]
                public string List() => "list";
            }
            """;

        var messages = (await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, source)).Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal).ToList();

        Assert.Equal([
            "Key \"route:id\" names a route value that the group's endpoint \"/each/x\" (each of the group's endpoints has a bucket of its own under this limit) does not have: use a key of another kind (the template has no parameters), or add {id} to the template",
            "Key \"route:id\" names a route value that the route template \"invoices\" of action List (each of the controller's actions has a bucket of its own under this limit) does not have: use a key of another kind (the template has no parameters), or add {id} to the template",
            "Key \"user\" reads the signed-in user, but action List (the controller's actions share this limit's bucket) allows anonymous callers, who have no value and are rejected with 403: require authorization on the controller or the action, or use another key",
            "Key \"user\" reads the signed-in user, but the group's endpoint \"/shared/x\" (the group's endpoints share this limit's bucket) allows anonymous callers, who have no value and are rejected with 403: require authorization on the group or that endpoint, or use another key",
        ], messages);
    }
}
