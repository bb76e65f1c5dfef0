using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using RateGuard.Generator.Emitting;
using RateGuard.Generator.Models;
using RateGuard.Generator.Parsing;
using RateGuard.Generator.Roslyn;

namespace RateGuard.Generator;

/// <summary>
/// Emits a gate for every distinct token-bucket limit in the compilation, wherever it is written: as
/// <c>[TokenBucket]</c> on handlers, controllers and actions, as <c>new TokenBucketAttribute(...)</c> metadata, or as
/// <c>.RequireTokenBucket(...)</c>. It never intercepts <c>Map*</c> calls, so it coexists with the Request Delegate
/// Generator; the gates reach the runtime through a module initializer.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class TokenBucketGenerator : IIncrementalGenerator
{
    private const string RegistryMetadataName = "RateGuard.CompilerServices.TokenBucketGateRegistry";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var attributeSpecs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                TokenBucketArgumentParser.AttributeMetadataName,
                static (_, _) => true,
                static (ctx, _) => FromAttributes(ctx))
            .WithTrackingName(TrackingNames.AttributeSpecs);

        var metadataSpecs = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => IsCandidate(node),
                static (ctx, ct) => FromMetadataExpression(ctx, ct))
            .Where(static spec => spec is not null)
            .WithTrackingName(TrackingNames.MetadataSpecs);

        // The gates are file-local classes (C# 11). An older language version gets no generated code, and the runtime
        // builds the same gates at startup instead.
        var runtimeAvailable = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetBestTypeByMetadataName(RegistryMetadataName) is not null
                && compilation is CSharpCompilation { LanguageVersion: >= LanguageVersion.CSharp11 }
                ? compilation.AssemblyName ?? "Assembly"
                : null)
            .WithTrackingName(TrackingNames.RuntimeAvailable);

        var distinct = attributeSpecs.Collect()
            .Combine(metadataSpecs.Collect())
            .Select(static (pair, _) => Distinct(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.DistinctSpecs);

        context.RegisterSourceOutput(distinct.Combine(runtimeAvailable), static (output, pair) =>
        {
            var (specs, assemblyName) = pair;
            // Without the runtime referenced there is nothing to register gates with: the analyzer says so instead.
            if (specs.Count > 0 && assemblyName is not null)
            {
                output.AddSource(GateEmitter.HintName, GateEmitter.Emit(specs, assemblyName));
            }
        });
    }

    private static EquatableArray<GateSpec> FromAttributes(GeneratorAttributeSyntaxContext context)
    {
        var compilation = context.SemanticModel.Compilation;
        var specs = context.Attributes
            .Select(a => GateSpecFactory.TryCreate(TokenBucketArgumentParser.FromAttribute(a), compilation))
            .Where(s => s is not null)
            .Select(s => s!)
            .ToArray();
        return new EquatableArray<GateSpec>(specs);
    }

    // Cheap syntax filter: a "new ...TokenBucket...(...)" or a "....RequireTokenBucket(...)" call.
    private static bool IsCandidate(SyntaxNode node) => node switch
    {
        ObjectCreationExpressionSyntax creation => RightmostName(creation.Type) is "TokenBucketAttribute" or "TokenBucket",
        InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: TokenBucketArgumentParser.FluentMethodName } } => true,
        _ => false,
    };

    private static string? RightmostName(TypeSyntax type) => type switch
    {
        IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
        QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
        AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
        _ => null,
    };

    private static GateSpec? FromMetadataExpression(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        var operation = context.SemanticModel.GetOperation(context.Node, cancellationToken);
        var compilation = context.SemanticModel.Compilation;
        return operation switch
        {
            IObjectCreationOperation creation when creation.Type?.ToDisplayString() == TokenBucketArgumentParser.AttributeMetadataName
                => GateSpecFactory.TryCreate(TokenBucketArgumentParser.FromObjectCreation(creation), compilation),
            IInvocationOperation invocation when TokenBucketArgumentParser.IsFluentMethod(invocation.TargetMethod)
                => GateSpecFactory.TryCreate(TokenBucketArgumentParser.FromFluentCall(invocation), compilation),
            _ => null,
        };
    }

    private static EquatableArray<GateSpec> Distinct(ImmutableArray<EquatableArray<GateSpec>> fromAttributes, ImmutableArray<GateSpec?> fromMetadata)
    {
        var all = fromAttributes.SelectMany(a => a).Concat(fromMetadata.Where(s => s is not null).Select(s => s!))
            .Distinct()
            .ToList();
        all.Sort();
        return new EquatableArray<GateSpec>(all.ToArray());
    }
}
