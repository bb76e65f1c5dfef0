using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;

namespace RateGuard.OpenApi;

/// <summary>
/// Adds <see cref="TokenBucketOpenApiOperationTransformer"/> to every OpenAPI document, whatever its name: each
/// <c>AddOpenApi(name)</c> configures the options of that name, and a named setup is asked for every name.
/// </summary>
internal sealed class TokenBucketOpenApiOptionsSetup : IConfigureNamedOptions<OpenApiOptions>
{
    // Stateless, so one serves every document.
    private static readonly TokenBucketOpenApiOperationTransformer s_transformer = new();

    public void Configure(string? name, OpenApiOptions options) => options.AddOperationTransformer(s_transformer);

    public void Configure(OpenApiOptions options) => Configure(Options.DefaultName, options);
}
