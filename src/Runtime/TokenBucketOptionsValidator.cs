using Microsoft.Extensions.Options;
using RateGuard.Stores;

namespace RateGuard;

internal sealed class TokenBucketOptionsValidator : IValidateOptions<TokenBucketOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenBucketOptions options)
    {
        List<string>? failures = null;
        if (!BucketKey.IsValidPrefix(options.KeyPrefix))
        {
            (failures ??= []).Add($"TokenBuckets:KeyPrefix '{options.KeyPrefix}' is invalid: use 1 to {TokenBucketPolicy.MaxNameLength} letters, digits or '.', '_', '-', '/'.");
        }
        if (options.InMemorySweepInterval <= TimeSpan.Zero)
        {
            (failures ??= []).Add($"TokenBuckets:InMemorySweepInterval must be positive, but was {options.InMemorySweepInterval}.");
        }
        if (!Enum.IsDefined(options.Clock))
        {
            (failures ??= []).Add($"TokenBuckets:Clock '{options.Clock}' is not one of {string.Join(", ", Enum.GetNames<TokenBucketClock>())}.");
        }
        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
