using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// Where a <c>UseTokenBuckets()</c> call stands among the middleware it depends on: the <c>UseRouting()</c> and
/// <c>UseAuthentication()</c> calls on the same app that come after it in the same method body, lambda, local function
/// or top-level statements. Only what can be seen in one body is judged, so calls made elsewhere, on another builder,
/// or left implicit (a <c>WebApplication</c> routes and authenticates ahead of user middleware by itself) never count.
/// </summary>
internal sealed class MiddlewareOrder
{
    public const string UseRouting = "UseRouting";
    public const string UseAuthentication = "UseAuthentication";
    private const string BuilderNamespace = "Microsoft.AspNetCore.Builder";

    private MiddlewareOrder(Location use, Location? routingAfter, Location? authenticationAfter)
    {
        Use = use;
        RoutingAfter = routingAfter;
        AuthenticationAfter = authenticationAfter;
    }

    /// <summary>The <c>UseTokenBuckets()</c> call.</summary>
    public Location Use { get; }

    /// <summary>An explicit <c>UseRouting()</c> after the call, when none comes before it.</summary>
    public Location? RoutingAfter { get; }

    /// <summary>An explicit <c>UseAuthentication()</c> after the call, when none comes before it.</summary>
    public Location? AuthenticationAfter { get; }

    /// <summary>Reads the calls around <paramref name="use"/>; <see langword="null"/> when nothing it depends on follows it.</summary>
    public static MiddlewareOrder? Read(IInvocationOperation use)
    {
        if (Receiver(use) is not { } app)
        {
            return null;
        }
        IOperation? routingAfter = null, authenticationAfter = null;
        bool routingBefore = false, authenticationBefore = false;
        foreach (var invocation in Invocations(Body(use)))
        {
            var name = invocation.TargetMethod.Name;
            if (name is not (UseRouting or UseAuthentication)
                || invocation.TargetMethod.ContainingNamespace?.ToDisplayString() != BuilderNamespace
                || !SymbolEqualityComparer.Default.Equals(Receiver(invocation), app))
            {
                continue;
            }
            var before = invocation.Syntax.SpanStart < use.Syntax.SpanStart;
            if (name == UseRouting)
            {
                routingBefore |= before;
                routingAfter = before ? routingAfter : First(routingAfter, invocation);
            }
            else
            {
                authenticationBefore |= before;
                authenticationAfter = before ? authenticationAfter : First(authenticationAfter, invocation);
            }
        }
        var routing = routingBefore ? null : routingAfter?.Syntax.GetLocation();
        var authentication = authenticationBefore ? null : authenticationAfter?.Syntax.GetLocation();
        return routing is null && authentication is null ? null : new MiddlewareOrder(use.Syntax.GetLocation(), routing, authentication);
    }

    private static IOperation First(IOperation? current, IOperation candidate) =>
        current is null || candidate.Syntax.SpanStart < current.Syntax.SpanStart ? candidate : current;

    // The app a call is made on: a local, a parameter, or a field or property of this instance or a static one. Any
    // other receiver (a call's result, another object's member) cannot be matched with certainty, so it is not judged.
    private static ISymbol? Receiver(IInvocationOperation invocation)
    {
        var receiver = invocation.Instance
            ?? (invocation.TargetMethod.IsExtensionMethod && invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null);
        while (receiver is IConversionOperation { IsImplicit: true } conversion)
        {
            receiver = conversion.Operand;
        }
        return receiver switch
        {
            ILocalReferenceOperation local => local.Local,
            IParameterReferenceOperation parameter => parameter.Parameter,
            IFieldReferenceOperation { Instance: null or IInstanceReferenceOperation } field => field.Field,
            IPropertyReferenceOperation { Instance: null or IInstanceReferenceOperation, Arguments.Length: 0 } property => property.Property,
            _ => null,
        };
    }

    // The body the call is written in: the nearest lambda or local function, else the whole method or top-level code.
    private static IOperation Body(IOperation operation)
    {
        var current = operation;
        while (current.Parent is { } parent && current is not (IAnonymousFunctionOperation or ILocalFunctionOperation))
        {
            current = parent;
        }
        return current;
    }

    // Every invocation in the body, but not in the lambdas and local functions inside it: those run at another time,
    // often on another builder (UseWhen, MapWhen).
    private static IEnumerable<IInvocationOperation> Invocations(IOperation body)
    {
        var pending = new Stack<IOperation>();
        pending.Push(body);
        while (pending.Count > 0)
        {
            var operation = pending.Pop();
            if (operation is IInvocationOperation invocation)
            {
                yield return invocation;
            }
            foreach (var child in operation.ChildOperations)
            {
                if (child is not (IAnonymousFunctionOperation or ILocalFunctionOperation))
                {
                    pending.Push(child);
                }
            }
        }
    }
}
