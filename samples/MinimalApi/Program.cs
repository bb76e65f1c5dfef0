using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using MinimalApiSample;
using RateGuard;
using RateGuard.Samples;

var builder = WebApplication.CreateSlimBuilder(args);

// TokenBuckets:Redis (for example --TokenBuckets:Redis=127.0.0.1:6379) selects Redis; without it, buckets are in memory.
builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
// The plans of /plans, which configuration may change (--TokenBuckets:Buckets:plans:Plans:pro:Capacity=5).
builder.Services.AddTokenBucketPlans("plans", plans => plans
    .Plan("free", capacity: 3, rate: 0.1)
    .Plan("pro", capacity: 10, rate: 1)
    .Unlimited("internal")
    .Deny("banned-1"));
builder.Services.AddAuthentication(DemoAuthenticationHandler.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, DemoAuthenticationHandler>(DemoAuthenticationHandler.SchemeName, null);
// The admin endpoints' policy: operators only (send X-Demo-User and X-Demo-Role: ops).
builder.Services.AddAuthorization(o => o.AddPolicy("ratelimit-admins", policy => policy.RequireRole("ops")));
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, SampleJsonContext.Default));

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.UseTokenBuckets();

// The seed's example: 10 requests at once per client IP, refilled at 5 per second.
app.MapGet("/ping", [TokenBucket(capacity: 10, rate: 5, Key = "ip")] () => new Message("pong"));

// One bucket for every caller, from a method group.
app.MapGet("/global", Endpoints.Global);

// A header key, from a local function. A request without the header gets 403.
[TokenBucket(capacity: 5, rate: 1, Key = "header:X-Api-Key")]
Message ApiKey() => new("api key");
app.MapGet("/api-key", ApiKey);

// A query-string key, from a static lambda.
app.MapGet("/search", [TokenBucket(capacity: 3, rate: 1, Key = "query:q")] static (string q) => new Message($"results for {q}"));

// A route-value key: each tenant has its own bucket.
app.MapGet("/tenants/{tenant}/orders", [TokenBucket(capacity: 4, rate: 1, Key = "route:tenant")] (string tenant) => new Message($"orders of {tenant}"));

// User and claim keys, behind authentication (send X-Demo-User and X-Demo-Tenant).
app.MapGet("/me", [TokenBucket(capacity: 5, rate: 1, Key = "user")] (HttpContext context) => new Message($"hello {context.User.Identity!.Name}"))
    .RequireAuthorization();
app.MapGet("/tenant-report", [TokenBucket(capacity: 3, rate: 1, Key = "claim:tenant")] () => new Message("tenant report"))
    .RequireAuthorization();

// Two endpoints drawing from one named bucket.
app.MapGet("/shared/a", [TokenBucket(capacity: 4, rate: 1, Bucket = "shared")] () => new Message("a"));
app.MapGet("/shared/b", [TokenBucket(capacity: 4, rate: 1, Bucket = "shared")] () => new Message("b"));

// Two limits at once: both must admit.
app.MapGet("/multi", [TokenBucket(capacity: 3, rate: 1)][TokenBucket(capacity: 100, rate: 10, Key = "global")] () => new Message("multi"));

// A custom key resolver.
app.MapGet("/client", [TokenBucket(capacity: 2, rate: 1, KeyResolver = typeof(ApiClientKeyResolver))] () => new Message("client"));

// Limits as endpoint metadata rather than attributes on the handler.
app.MapGet("/metadata", () => new Message("metadata")).WithMetadata(new TokenBucketAttribute(2, 1) { Key = "ip" });

// A limit on a group is one bucket per client that all of the group's endpoints draw from, named "/reports" after the
// group's prefix, as ASP.NET Core's policy on a group is. One endpoint opts out.
var reports = app.MapGroup("/reports").RequireTokenBucket(capacity: 3, rate: 1, key: "ip");
reports.MapGet("/daily", () => new Message("daily"));
reports.MapGet("/weekly", () => new Message("weekly"));
reports.MapGet("/health", () => new Message("unlimited")).DisableTokenBucket();

// perEndpoint: each endpoint of the group has a bucket of its own, named after its route ("GET /archive/2025").
var archive = app.MapGroup("/archive").RequireTokenBucket(capacity: 2, rate: 1, key: "ip", perEndpoint: true);
archive.MapGet("/2024", () => new Message("2024"));
archive.MapGet("/2025", () => new Message("2025"));

// Limits per client: the API-key directory names each key's plan (free-, pro-, internal-); banned-1 is denied (403);
// any other key gets the limit's own capacity 1, rate 0.1.
app.MapGet("/plans", [TokenBucket(capacity: 1, rate: 0.1, Key = "header:X-Api-Key", Bucket = "plans", PlanResolver = typeof(ApiKeyDirectory))] () => new Message("plans"));

// Costlier requests take more tokens: three exports drain the bucket.
app.MapPost("/exports", [TokenBucket(capacity: 6, rate: 0.5, Cost = 2)] (ExportRequest request) => new Message($"export of {request.Name} queued"));

// Only failed logins count: a wrong password keeps its token, a right one gets it back once the answer is 200.
app.MapPost("/login", [TokenBucket(capacity: 3, rate: 1.0 / 60, Key = "ip", Count = "failures")] Results<Ok<Message>, UnauthorizedHttpResult> (LoginRequest login) =>
    login.Password == "secret" ? TypedResults.Ok(new Message($"welcome {login.User}")) : TypedResults.Unauthorized());

// The cost is known only once the answer is: one token up front, then the tokens the chat used, at most 1,000 a request.
// The bucket may go into debt, which the client's next requests wait to pay back.
app.MapPost("/chat", [TokenBucket(capacity: 100, rate: 1, Key = "header:X-Api-Key", MaxCost = 1000)] (ChatRequest chat, HttpContext context) =>
{
    context.ChargeTokens(chat.Tokens);
    return new Message($"answered with {chat.Tokens} tokens");
});

// Operators inspect and reset clients' buckets at /ratelimits (JSON, and a page for people), behind a policy.
app.MapTokenBucketAdmin("/ratelimits", "ratelimit-admins");

app.Run();

namespace MinimalApiSample
{
    /// <summary>Marks this sample's assembly, for tests that host it.</summary>
    public sealed class SampleMarker;

    // The JSON the seed answers with, {"message":"pong"}: a member cannot share its record's name, hence the lower case.
#pragma warning disable IDE1006
    public sealed record Message(string message);
#pragma warning restore IDE1006

    public sealed record ExportRequest(string Name);

    public sealed record LoginRequest(string User, string Password);

    public sealed record ChatRequest(double Tokens);

    internal static class Endpoints
    {
        [TokenBucket(capacity: 20, rate: 0.2, Key = "global")]
        public static Message Global() => new("global");
    }

    [System.Text.Json.Serialization.JsonSerializable(typeof(Message))]
    [System.Text.Json.Serialization.JsonSerializable(typeof(ExportRequest))]
    [System.Text.Json.Serialization.JsonSerializable(typeof(LoginRequest))]
    [System.Text.Json.Serialization.JsonSerializable(typeof(ChatRequest))]
    internal sealed partial class SampleJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
}
