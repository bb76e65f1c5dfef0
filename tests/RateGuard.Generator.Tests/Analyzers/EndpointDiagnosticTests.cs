using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>RG0004, RG0007, RG0008, RG0009: a limit against the endpoint it sits on and the other limits.</summary>
public sealed class EndpointDiagnosticTests
{
    [Fact]
    public Task RG0004_a_route_key_without_that_parameter_in_a_Map_pattern_is_an_error() => VerifyLibrary(Routes("""
        app.MapGet("/tenants/{tenant}/orders", [TokenBucket(4, 1, Key = {|RG0004:"route:id"|})] (string tenant) => tenant);
                app.MapGet("/plain", [TokenBucket(4, 1, Key = {|RG0004:"route:id"|})] () => "plain");
                app.MapGet("/items/{x}", () => "x").RequireTokenBucket(4, 1, key: {|RG0004:"route:y"|});
                app.MapGet("/things/{x}", () => "x").WithMetadata(new TokenBucketAttribute(4, 1) { Key = {|RG0004:"route:z"|} });
        """));

    [Fact]
    public Task RG0004_is_silent_when_the_pattern_or_a_group_prefix_has_the_parameter() => VerifyLibrary(Routes("""
        app.MapGet("/tenants/{tenant:alpha}/orders/{id?}", [TokenBucket(4, 1, Key = "route:TENANT")] (string tenant) => tenant);
                app.MapGet("/files/{**path}", [TokenBucket(4, 1, Key = "route:path")] (string path) => path);
                app.MapGroup("/t/{tenant}").MapGet("/orders", [TokenBucket(4, 1, Key = "route:tenant")] (string tenant) => tenant);
                var group = app.MapGroup("/accounts/{account}");
                group.MapGet("/x", [TokenBucket(4, 1, Key = "route:account")] (string account) => account);
                app.MapGet("/items/{x}", () => "x").RequireTokenBucket(4, 1, key: "route:x");
        """));

    [Fact]
    public Task RG0004_is_silent_when_a_group_prefix_cannot_be_known() => VerifyLibrary("""
        public static class Routes
        {
            public static void Map(Microsoft.AspNetCore.Routing.RouteGroupBuilder group)
            {
                group.MapGet("/x", [TokenBucket(4, 1, Key = "route:tenant")] (string tenant) => tenant);
            }
        }
        """);

    [Fact]
    public Task RG0004_and_RG0007_are_silent_on_an_endpoint_route_builder_that_may_be_a_group() => VerifyLibrary("""
        public static class OrderRoutes
        {
            // Called as app.MapGroup("/t/{tenant}").RequireAuthorization().MapOrders(): the prefix and the
            // authorization are out of sight here.
            public static Microsoft.AspNetCore.Routing.IEndpointRouteBuilder MapOrders(this Microsoft.AspNetCore.Routing.IEndpointRouteBuilder routes)
            {
                routes.MapGet("/orders", [TokenBucket(4, 1, Key = "route:tenant")] (string tenant) => tenant);
                routes.MapGet("/mine", [TokenBucket(4, 1, Key = "user")] () => "mine");
                return routes;
            }
        }
        """);

    [Fact]
    public Task RG0004_a_method_group_handler_is_checked_against_its_pattern() => VerifyLibrary(Routes("""
        app.MapGet("/a/{known}", Handlers.Get);
        """) + """

        public static class Handlers
        {
            [TokenBucket(4, 1, Key = {|RG0004:"route:unknown"|})]
            public static string Get(string known) => known;
        }
        """);

    [Fact]
    public Task RG0004_mvc_attribute_routes_include_the_controller_prefix() => VerifyLibrary("""
        [ApiController]
        [Route("api/{tenant}/orders")]
        [TokenBucket(5, 1, Key = {|RG0004:"route:id"|})]
        public sealed class OrdersController : ControllerBase
        {
            [HttpGet("{id}")]
            [TokenBucket(5, 1, Key = "route:tenant")]
            public string Get(string tenant, string id) => id;

            [HttpGet("")]
            [TokenBucket(5, 1, Key = {|RG0004:"route:orderId"|})]
            public string List(string tenant) => tenant;

            [HttpGet("/global/{id}")]
            [TokenBucket(5, 1, Key = {|RG0004:"route:tenant"|})]
            public string Global(string id) => id;
        }
        """);

    [Fact]
    public Task RG0004_is_silent_for_conventionally_routed_actions() => VerifyLibrary("""
        public sealed class HomeController : Controller
        {
            [TokenBucket(5, 1, Key = "route:id")]
            public string Index(string id) => id;
        }
        """);

    [Fact]
    public Task RG0007_a_user_or_claim_key_on_an_anonymous_minimal_endpoint_warns() => VerifyLibrary(Routes("""
        app.MapGet("/me", [TokenBucket(5, 1, Key = {|RG0007:"user"|})] () => "me");
                app.MapGet("/t", [TokenBucket(5, 1, Key = {|RG0007:"claim:tenant"|})] () => "t").WithName("t");
                app.MapGet("/open", [AllowAnonymous] [TokenBucket(5, 1, Key = {|RG0007:"user"|})] () => "o").RequireAuthorization();
        """));

    [Fact]
    public Task RG0007_is_silent_when_the_endpoint_requires_authorization_or_may_be_given_it_elsewhere() => VerifyLibrary(Routes("""
        app.MapGet("/me", [TokenBucket(5, 1, Key = "user")] () => "me").RequireAuthorization();
                app.MapGet("/attr", [Authorize] [TokenBucket(5, 1, Key = "user")] () => "a");
                app.MapGroup("/g").RequireAuthorization().MapGet("/x", [TokenBucket(5, 1, Key = "user")] () => "x");
                var kept = app.MapGet("/kept", [TokenBucket(5, 1, Key = "user")] () => "k");
                kept.RequireAuthorization();
                app.MapGet("/ip", [TokenBucket(5, 1, Key = "ip")] () => "ip");
        """));

    [Fact]
    public Task RG0007_mvc_actions_without_authorize_warn_and_allow_anonymous_overrides_authorize() => VerifyLibrary("""
        [ApiController]
        public sealed class OpenController : ControllerBase
        {
            [HttpGet("/open")]
            [TokenBucket(5, 1, Key = {|RG0007:"user"|})]
            public string Get() => "open";
        }

        [ApiController]
        [Authorize]
        public sealed class SecureController : ControllerBase
        {
            [HttpGet("/secure")]
            [TokenBucket(5, 1, Key = "claim:sub")]
            public string Get() => "secure";

            [HttpGet("/public")]
            [AllowAnonymous]
            [TokenBucket(5, 1, Key = {|RG0007:"user"|})]
            public string Public() => "public";
        }
        """);

    [Fact]
    public Task RG0008_a_bucket_declared_again_with_other_settings_is_an_error_on_the_second() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(4, 1, Bucket = "shared")] () => "a");
                app.MapGet("/b", [TokenBucket(5, 1, Bucket = {|RG0008:"shared"|})] () => "b");
                app.MapGet("/c", [TokenBucket(4, 2, Bucket = {|RG0008:"shared"|})] () => "c");
                app.MapGet("/d", [TokenBucket(4, 1, Key = "global", Bucket = {|RG0008:"shared"|})] () => "d");
                app.MapGet("/e", () => "e").RequireTokenBucket(4, 1, bucket: "shared");
                app.MapGet("/f", [TokenBucket(4, 1, Cost = 2, Bucket = "shared")] () => "f");
        """));

    [Fact]
    public Task RG0009_a_method_that_never_becomes_an_endpoint_warns() => VerifyLibrary("""
        public static class Helpers
        {
            {|RG0009:[TokenBucket(5, 1)]|}
            public static string NeverMapped() => "x";

            [TokenBucket(5, 1)]
            public static string Mapped() => "y";

            public static void Map(WebApplication app) => app.MapGet("/y", Mapped);
        }

        [{|RG0009:TokenBucket(5, 1)|}]
        public sealed class PlainService
        {
        }

        [ApiController]
        public sealed class RealController : ControllerBase
        {
            [HttpGet("/real")]
            [TokenBucket(5, 1)]
            public string Get() => "real";

            {|RG0009:[TokenBucket(5, 1)]|}
            private string Helper() => "helper";
        }
        """.Replace("{|RG0009:[TokenBucket(5, 1)]|}", "[{|RG0009:TokenBucket(5, 1)|}]"));

    [Fact]
    public Task RG0009_follows_what_MVC_takes_for_a_controller() => VerifyLibrary("""
        // Limits on abstract or generic bases apply to the controllers that inherit them.
        [TokenBucket(100, 10)]
        public abstract class ApiControllerBase : ControllerBase
        {
            [HttpGet("list")]
            [TokenBucket(5, 1)]
            public string List() => "list";
        }

        public abstract class CrudController<T> : ControllerBase
        {
            [HttpGet("all")]
            [TokenBucket(5, 1)]
            public string All() => typeof(T).Name;
        }

        [Route("orders")]
        public sealed class OrdersController : ApiControllerBase
        {
        }

        [Route("items")]
        public sealed class ItemsController : CrudController<string>
        {
        }

        // MVC matches the suffix in any case.
        public sealed class Statuscontroller
        {
            [TokenBucket(5, 1)]
            public string Get() => "ok";
        }

        public static class Outer
        {
            // A nested class is never a controller.
            public sealed class NestedController : ControllerBase
            {
                [{|RG0009:TokenBucket(5, 1)|}]
                public string Get() => "nested";
            }
        }
        """);

    [Fact]
    public Task RG0004_uses_the_routes_of_the_nearest_controller_class_that_declares_any() => VerifyLibrary("""
        [Route("api")]
        public abstract class ApiBase : ControllerBase
        {
        }

        [Route("t/{tenant}")]
        public sealed class TenantOrdersController : ApiBase
        {
            [HttpGet]
            [TokenBucket(5, 1, Key = "route:tenant")]
            public string Get(string tenant) => tenant;
        }

        public sealed class InheritedRouteController : ApiBase
        {
            [HttpGet("x")]
            [TokenBucket(5, 1, Key = {|RG0004:"route:tenant"|})]
            public string Get() => "x";
        }
        """);

    [Fact]
    public Task RG0004_an_action_inherited_from_an_abstract_base_is_checked_on_each_controller() => VerifyLibrary("""
        public abstract class TenantBase : ControllerBase
        {
            [HttpGet("stats")]
            [TokenBucket(5, 1, Key = {|RG0004:"route:tenant"|})]
            public string Stats() => "stats";
        }

        [Route("t/{tenant}")]
        public sealed class GoodController : TenantBase
        {
        }

        [Route("plain")]
        public sealed class PlainController : TenantBase
        {
        }

        [Route("other")]
        public sealed class OtherPlainController : TenantBase
        {
        }
        """);
}
