using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using RateGuard.Generator.Diagnostics;
using RateGuard.Generator.Parsing;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// RG0021: each network written in code for <c>TokenBucketOptions.ExemptNetworks</c>, which the runtime would refuse at
/// startup. The list is found through its property, wherever it is filled: <c>o.ExemptNetworks.Add("10.0.0.0/8")</c>,
/// <c>Insert</c>, <c>AddRange</c> and <c>InsertRange</c> of an array or a collection expression, and a collection
/// expression, a new list or a collection initializer assigned to it. Entries that are not constants, and networks
/// read from configuration, are left to the runtime.
/// </summary>
internal sealed class ExemptNetworkChecks(KnownSymbols symbols)
{
    private const string PropertyName = "ExemptNetworks";

    public void AnalyzePropertyReference(OperationAnalysisContext context)
    {
        var reference = (IPropertyReferenceOperation)context.Operation;
        if (reference.Property.Name != PropertyName || !symbols.Is(reference.Property.ContainingType, symbols.TokenBucketOptions))
        {
            return;
        }
        switch (reference.Parent)
        {
            // o.ExemptNetworks.Add("...") and its kin.
            case IInvocationOperation call when call.Instance == reference:
                foreach (var argument in call.Arguments)
                {
                    CheckArgument(context, call.TargetMethod.Name, argument);
                }
                break;
            // o.ExemptNetworks = [...], = new List<string> { ... }, and the same in an object initializer.
            case ISimpleAssignmentOperation assignment when assignment.Target == reference:
                CheckEntries(context, assignment.Value);
                break;
            // new TokenBucketOptions { ExemptNetworks = { "...", "..." } }: Add calls on the existing list.
            case IMemberInitializerOperation member when member.InitializedMember == reference:
                CheckEntries(context, member.Initializer);
                break;
        }
    }

    private static void CheckArgument(OperationAnalysisContext context, string method, IArgumentOperation argument)
    {
        switch (method)
        {
            case "Add" or "Insert" when argument.Parameter?.Type.SpecialType == SpecialType.System_String:
                Check(context, argument.Value);
                break;
            case "AddRange" or "InsertRange" when argument.Parameter?.Type.SpecialType != SpecialType.System_Int32:
                CheckEntries(context, argument.Value);
                break;
        }
    }

    // The entries of a list, an array or a collection expression written in place.
    private static void CheckEntries(OperationAnalysisContext context, IOperation? value)
    {
        switch (Unwrap(value))
        {
            case ICollectionExpressionOperation collection:
                foreach (var element in collection.Elements)
                {
                    if (element is ISpreadOperation spread)
                    {
                        CheckEntries(context, spread.Operand);
                    }
                    else
                    {
                        Check(context, element);
                    }
                }
                break;
            case IArrayCreationOperation { Initializer: { } array }:
                foreach (var element in array.ElementValues)
                {
                    Check(context, element);
                }
                break;
            case IObjectCreationOperation { Initializer: { } initializer }:
                CheckEntries(context, initializer);
                break;
            case IObjectOrCollectionInitializerOperation initializer:
                foreach (var add in initializer.Initializers)
                {
                    if (add is IInvocationOperation call)
                    {
                        foreach (var argument in call.Arguments)
                        {
                            CheckArgument(context, call.TargetMethod.Name, argument);
                        }
                    }
                }
                break;
        }
    }

    private static void Check(OperationAnalysisContext context, IOperation entry)
    {
        var value = Unwrap(entry);
        if (value is null || !value.ConstantValue.HasValue || value.ConstantValue.Value is not (string or null))
        {
            return;
        }
        var text = value.ConstantValue.Value as string;
        if (!NetworkRange.TryParse(text, out _, out _, out var problem))
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidExemptNetwork, value.Syntax.GetLocation(), text ?? "null", problem));
        }
    }

    private static IOperation? Unwrap(IOperation? operation) =>
        operation is IConversionOperation { IsImplicit: true } conversion ? Unwrap(conversion.Operand) : operation;
}
