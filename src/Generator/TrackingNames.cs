namespace RateGuard.Generator;

/// <summary>The names of the generator's pipeline steps, for incrementality tests.</summary>
internal static class TrackingNames
{
    public const string AttributeSpecs = nameof(AttributeSpecs);
    public const string MetadataSpecs = nameof(MetadataSpecs);
    public const string LimitDeclarations = nameof(LimitDeclarations);
    public const string RuntimeAvailable = nameof(RuntimeAvailable);
    public const string DistinctSpecs = nameof(DistinctSpecs);
}
