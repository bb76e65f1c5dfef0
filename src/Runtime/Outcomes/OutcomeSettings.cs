namespace RateGuard.Outcomes;

/// <summary>
/// What one limit settles after its response: which responses it counts (<see langword="null"/>: every one) and the
/// most a request may be charged once its handler reports its actual cost (0: the handler cannot charge).
/// </summary>
internal sealed record OutcomeSettings(OutcomeRule? Count, int MaxCost);
