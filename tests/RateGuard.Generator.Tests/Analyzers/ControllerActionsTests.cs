using Microsoft.CodeAnalysis;
using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>
/// A controller-level limit is checked against the controller's actions as MVC finds them: not against what
/// <c>Controller</c> and <c>ControllerBase</c> declare, <c>Dispose</c>, <c>[NonAction]</c>, static, generic or
/// non-public methods, nor twice for an override; and every message names the action it is about.
/// </summary>
public sealed class ControllerActionsTests
{
    [Fact]
    public Task A_user_key_on_a_Controller_whose_actions_each_require_authorization_is_silent() => VerifyLibrary("""
        [Route("articles")]
        [TokenBucket(10, 1, Key = "user")]
        public sealed class ArticlesController : Controller
        {
            [HttpPost, Authorize]
            public string Create() => "created";

            [HttpDelete("{slug}"), Authorize]
            public string Delete(string slug) => slug;

            [NonAction]
            public string Helper() => "not an action";

            public static string Shared() => "not an action";

            public string Generic<T>() => "not an action";

            protected override void Dispose(bool disposing) => base.Dispose(disposing);
        }
        """);

    [Fact]
    public Task A_route_key_on_a_Controller_is_checked_against_its_actions_templates_only() => VerifyLibrary("""
        [Route("articles/{slug}/comments")]
        [TokenBucket(10, 1, Key = "route:slug")]
        public sealed class CommentsController : Controller
        {
            [HttpGet]
            public string List(string slug) => slug;

            [HttpPost]
            public string Add(string slug) => slug;
        }

        [Route("profiles")]
        [TokenBucket(10, 1, Key = "route:username")]
        public sealed class ProfilesController : Controller
        {
            [HttpGet("{username}")]
            public string Get(string username) => username;

            [HttpPost("{username}/follow")]
            public string Follow(string username) => username;
        }
        """);

    [Fact]
    public Task An_IDisposable_controller_of_its_own_has_no_Dispose_action() => VerifyLibrary("""
        [Route("tags")]
        [Authorize]
        [TokenBucket(10, 1, Key = "user")]
        public sealed class TagsController : ControllerBase, System.IDisposable
        {
            [HttpGet]
            public string List() => "tags";

            public void Dispose()
            {
            }
        }
        """);

    [Fact]
    public Task An_overridden_action_is_one_action_with_the_overriding_methods_attributes() => VerifyLibrary("""
        public abstract class ReadsController : ControllerBase
        {
            [HttpGet("items")]
            public virtual string Get() => "base";
        }

        [Route("feed")]
        [TokenBucket(10, 1, Key = "user")]
        public sealed class FeedController : ReadsController
        {
            [Authorize]
            public override string Get() => "feed";
        }
        """);

    [Fact]
    public async Task Each_message_about_a_controller_limit_names_the_action()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, """
            using Microsoft.AspNetCore.Authorization;
            using Microsoft.AspNetCore.Mvc;
            using RateGuard;

            [Route("profiles")]
            [TokenBucket(10, 1, Key = "route:username")]
            [TokenBucket(5, 1, Key = "user", Bucket = "profile-writes")]
            public sealed class ProfilesController : Controller
            {
                [HttpGet("{username}")]
                public string Get(string username) => username;

                [HttpGet("")]
                public string Mine() => "me";
            }
            """);

        var route = Assert.Single(diagnostics, d => d.Id == "RG0004");
        Assert.Contains("action Mine", route.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        var users = diagnostics.Where(d => d.Id == "RG0007").Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, users.Count);
        Assert.Contains(users, m => m.Contains("action Get"));
        Assert.Contains(users, m => m.Contains("action Mine"));
    }
}
