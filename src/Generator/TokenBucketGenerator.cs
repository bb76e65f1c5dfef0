using System.Collections.Generic;
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

        // [assembly: TokenBucketLimit(...)]: each declared limit is registered by name, and gets its gate like any
        // other limit, so a use by name, which the runtime resolves to the declaration, finds the same generated gate.
        var declarations = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                TokenBucketArgumentParser.DeclarationMetadataName,
                static (_, _) => true,
                static (ctx, _) => FromDeclarations(ctx))
            .WithTrackingName(TrackingNames.LimitDeclarations);

        var limits = declarations.Collect()
            .Select(static (all, _) => Sorted(all.SelectMany(d => d)));

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
            .Combine(limits)
            .Select(static (pair, _) => Distinct(pair.Left.Left, pair.Left.Right, pair.Right))
            .WithTrackingName(TrackingNames.DistinctSpecs);

        context.RegisterSourceOutput(distinct.Combine(limits).Combine(runtimeAvailable), static (output, pair) =>
        {
            var ((specs, declared), assemblyName) = pair;
            // Without the runtime referenced there is nothing to register gates with: the analyzer says so instead.
            if ((specs.Count > 0 || declared.Count > 0) && assemblyName is not null)
            {
                output.AddSource(GateEmitter.HintName, GateEmitter.Emit(specs, declared, assemblyName));
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

    private static EquatableArray<LimitSpec> FromDeclarations(GeneratorAttributeSyntaxContext context)
    {
        var compilation = context.SemanticModel.Compilation;
        var limits = context.Attributes
            .Select(a => LimitSpecOf(TokenBucketArgumentParser.FromDeclaration(a), compilation))
            .Where(l => l is not null)
            .Select(l => l!)
            .ToArray();
        return new EquatableArray<LimitSpec>(limits);
    }

    // The values of a declaration as written, for the runtime to find by name, and its gate when it is valid. A
    // declaration whose values the compiler could not read, or whose resolver file-level code cannot name, is left to
    // the runtime, which reads the assembly's attributes when nothing was registered from it.
    private static LimitSpec? LimitSpecOf(ParsedTokenBucket parsed, Compilation compilation)
    {
        // A rate that is no finite number has no literal; the runtime reads it from the attribute.
        if (parsed.Bucket.Value is not { } name || !parsed.Bucket.IsConstant || !parsed.IsFullyConstant
            || double.IsNaN(parsed.Rate.Value) || double.IsInfinity(parsed.Rate.Value))
        {
            return null;
        }
        var gate = GateSpecFactory.TryCreate(parsed, compilation);
        string? resolver = null;
        if (parsed.KeyResolver.Value is { } type)
        {
            if (gate?.Resolver is not { } named)
            {
                return null;
            }
            resolver = named.FullyQualifiedName;
        }
        return new LimitSpec(name, parsed.Capacity.Value, parsed.Rate.Value, resolver is null ? parsed.Key.Value : null, parsed.Cost.Value, resolver, gate);
    }

    private static EquatableArray<LimitSpec> Sorted(IEnumerable<LimitSpec> limits)
    {
        var all = limits.ToList();
        all.Sort();
        return new EquatableArray<LimitSpec>(all.ToArray());
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

    private static EquatableArray<GateSpec> Distinct(ImmutableArray<EquatableArray<GateSpec>> fromAttributes, ImmutableArray<GateSpec?> fromMetadata, EquatableArray<LimitSpec> declared)
    {
        var all = fromAttributes.SelectMany(a => a).Concat(fromMetadata.Where(s => s is not null).Select(s => s!))
            .Concat(declared.Where(l => l.Gate is not null).Select(l => l.Gate!))
            .Distinct()
            .ToList();
        all.Sort();
        return new EquatableArray<GateSpec>(all.ToArray());
    }
}
