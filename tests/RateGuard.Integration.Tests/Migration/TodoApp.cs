using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Integration.Tests.Infrastructure;

namespace RateGuard.Integration.Tests.Migration;

/// <summary>How the app moved off ASP.NET Core's limiter: the two ways of docs/migrating-from-aspnetcore-rate-limiting.md.</summary>
public enum MigrationWay
{
    /// <summary>Way 1: the app keeps AddRateLimiter and RequireRateLimiting; its policy returns RateGuard's partition.</summary>
    RequireRateLimitingWithTheAdapter,

    /// <summary>Way 2: RequireTokenBucket on the group and UseTokenBuckets in the pipeline.</summary>
    RequireTokenBucket,
}

/// <summary>
/// A to-do API whose users sign in with JWT bearer tokens and are limited to 100 requests per 10 seconds across every
/// <c>/todos</c> endpoint, moved to RateGuard as the migration guide says, word for word where the guide shows code.
/// Several copies share one Redis, as instances behind a load balancer do.
/// </summary>
public sealed class TodoApp : IAsyncDisposable
{
    private static readonly TestTokens s_tokens = new("https://todos.example", "todos");

    private TodoApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    /// <summary>A bearer token for <paramref name="user"/>, whose <c>sub</c> the JWT handler maps to the name identifier.</summary>
    public static string TokenFor(string user) => s_tokens.For(user);

    /// <param name="way">How the app moved.</param>
    /// <param name="settings">The app's configuration: its TokenBuckets section.</param>
    public static async Task<TodoApp> StartAsync(MigrationWay way, IReadOnlyDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(s_tokens.Accept);
        builder.Services.AddAuthorization();
        builder.Services.AddSingleton<TodoStore>();

        // The guide's code, as written there.
        if (way == MigrationWay.RequireRateLimitingWithTheAdapter)
        {
            builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
            builder.Services.AddTokenBucketNames("todos-per-user");
            var perUser = new TokenBucketPolicy("todos-per-user", capacity: 100, rate: 10);
            builder.Services.AddRateLimiter(options =>
            {
                options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                options.AddPolicy("per-user", context => TokenBucketRateLimitPartition.Get(
                    context, context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous", perUser));
                options.OnRejected = (rejected, _) =>
                {
                    if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait))
                    {
                        rejected.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                    }
                    return ValueTask.CompletedTask;
                };
            });
        }
        else
        {
            builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
        }

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        if (way == MigrationWay.RequireRateLimitingWithTheAdapter)
        {
            app.UseRateLimiter();
        }
        else
        {
            app.UseTokenBuckets();
        }

        var todos = way == MigrationWay.RequireRateLimitingWithTheAdapter
            ? app.MapGroup("/todos").RequireAuthorization().RequireRateLimiting("per-user")
            : app.MapGroup("/todos").RequireAuthorization().RequireTokenBucket(capacity: 100, rate: 10, key: "user");
        todos.MapGet("/", (TodoStore store) => store.All());
        todos.MapGet("/{id:int}", (int id, TodoStore store) => store.Find(id) is { } todo ? Results.Ok(todo) : Results.NotFound());
        todos.MapPost("/", (NewTodo todo, TodoStore store) =>
        {
            var created = store.Add(todo.Title);
            return Results.Created($"/todos/{created.Id}", created);
        });

        await app.StartAsync();
        return new TodoApp(app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}

public sealed record Todo(int Id, string Title);

public sealed record NewTodo(string Title);

/// <summary>The to-dos of one instance: the limit is what is shared here, not the data.</summary>
public sealed class TodoStore
{
    private readonly ConcurrentDictionary<int, Todo> _todos = new() { [1] = new Todo(1, "Read the migration guide") };
    private int _next = 1;

    public IEnumerable<Todo> All() => _todos.Values.OrderBy(t => t.Id);

    public Todo? Find(int id) => _todos.GetValueOrDefault(id);

    public Todo Add(string title)
    {
        var todo = new Todo(Interlocked.Increment(ref _next), title);
        _todos[todo.Id] = todo;
        return todo;
    }
}
