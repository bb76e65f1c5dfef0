using Microsoft.CodeAnalysis;
using RateGuard.Generator.Parsing;
using RateGuard.Generator.Roslyn;

namespace RateGuard.Generator.Analysis;

/// <summary>The types the analyzer recognises, looked up once per compilation.</summary>
internal sealed class KnownSymbols
{
    private KnownSymbols(Compilation compilation)
    {
        TokenBucketAttribute = compilation.GetBestTypeByMetadataName(TokenBucketArgumentParser.AttributeMetadataName);
        TokenBucketLimitAttribute = compilation.GetBestTypeByMetadataName(TokenBucketArgumentParser.DeclarationMetadataName);
        ResolverInterface = compilation.GetBestTypeByMetadataName(TokenBucketArgumentParser.ResolverInterfaceMetadataName);
        PlanResolverInterface = compilation.GetBestTypeByMetadataName(TokenBucketArgumentParser.PlanResolverInterfaceMetadataName);
        CountRuleInterface = compilation.GetBestTypeByMetadataName(TokenBucketArgumentParser.CountRuleInterfaceMetadataName);
        TokenBucketOptions = compilation.GetBestTypeByMetadataName("RateGuard.TokenBucketOptions");
        EndpointRouteBuilderExtensions = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions");
        RouteGroupBuilder = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Routing.RouteGroupBuilder");
        WebApplication = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Builder.WebApplication");
        ControllerBase = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Mvc.ControllerBase");
        Controller = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Mvc.Controller");
        Disposable = compilation.GetSpecialType(SpecialType.System_IDisposable);
        ControllerAttribute = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Mvc.ControllerAttribute");
        NonControllerAttribute = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Mvc.NonControllerAttribute");
        NonActionAttribute = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Mvc.NonActionAttribute");
        RouteTemplateProvider = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Mvc.Routing.IRouteTemplateProvider");
        AuthorizeData = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Authorization.IAuthorizeData");
        AllowAnonymous = compilation.GetBestTypeByMetadataName("Microsoft.AspNetCore.Authorization.IAllowAnonymous");
    }

    public INamedTypeSymbol? TokenBucketAttribute { get; }
    public INamedTypeSymbol? TokenBucketLimitAttribute { get; }
    public INamedTypeSymbol? ResolverInterface { get; }
    public INamedTypeSymbol? PlanResolverInterface { get; }
    public INamedTypeSymbol? CountRuleInterface { get; }
    public INamedTypeSymbol? TokenBucketOptions { get; }
    public INamedTypeSymbol? EndpointRouteBuilderExtensions { get; }
    public INamedTypeSymbol? RouteGroupBuilder { get; }
    public INamedTypeSymbol? WebApplication { get; }
    public INamedTypeSymbol? ControllerBase { get; }
    public INamedTypeSymbol? Controller { get; }
    public INamedTypeSymbol Disposable { get; }
    public INamedTypeSymbol? ControllerAttribute { get; }
    public INamedTypeSymbol? NonControllerAttribute { get; }
    public INamedTypeSymbol? NonActionAttribute { get; }
    public INamedTypeSymbol? RouteTemplateProvider { get; }
    public INamedTypeSymbol? AuthorizeData { get; }
    public INamedTypeSymbol? AllowAnonymous { get; }

    public static KnownSymbols Create(Compilation compilation) => new(compilation);

    public bool IsTokenBucket(AttributeData attribute) =>
        SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, TokenBucketAttribute);

    public bool Is(ITypeSymbol? type, INamedTypeSymbol? expected) =>
        type is not null && expected is not null && SymbolEqualityComparer.Default.Equals(type, expected);

    public bool Implements(ITypeSymbol? type, INamedTypeSymbol? @interface) =>
        type is not null && @interface is not null && GateSpecFactory.Implements(type, @interface);

    public bool DerivesFrom(ITypeSymbol? type, INamedTypeSymbol? baseType)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (Is(current, baseType))
            {
                return true;
            }
        }
        return false;
    }
}
