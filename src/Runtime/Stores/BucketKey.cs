using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace RateGuard.Stores;

/// <summary>
/// Builds storage keys of the form <c>{prefix}:{bucket}:{{value}}</c> from untrusted client values.
/// </summary>
/// <remarks>
/// A value is kept as it is only when it is short and made of characters that cannot break the key's shape
/// (letters, digits and <c>. _ - : @ + /</c>). Anything else, including empty values, is replaced by <c>#</c>
/// and 128 bits of its SHA-256 in base64url. <c>#</c> is not an allowed raw character, so a raw value can never
/// equal a hashed one; bucket names and prefixes cannot contain <c>:</c> or braces, so the key splits back into
/// (prefix, bucket, value) one way only. A bucket name's characters outside letters, digits and <c>. _ - /</c> (a
/// route's spaces and braces, say) are written as <c>%</c> and two hex digits, so that a brace in a name can never
/// become the key's cluster hash tag. Together these make the mapping from (bucket, value) to key injective:
/// crafted input cannot make two buckets share a key, and every key is short.
/// </remarks>
public static class BucketKey
{
    /// <summary>The longest client value kept verbatim; longer values are hashed.</summary>
    public const int MaxRawValueLength = 64;

    /// <summary>The length of a hashed value: <c>#</c> and 22 base64url characters.</summary>
    public const int HashedValueLength = 23;

    private const int HashBytes = 16;

    /// <summary>Composes the storage key for <paramref name="value"/> in <paramref name="bucket"/>.</summary>
    public static string Compose(string prefix, string bucket, string value) => ComposeEncoded(prefix, EncodeName(bucket), value);

    /// <summary>Composes a key from a bucket name already encoded by <see cref="EncodeName"/>.</summary>
    internal static string ComposeEncoded(string prefix, string encodedBucket, string value) =>
        IsSafeRawValue(value)
            ? string.Concat(prefix, ":", encodedBucket, ":{", value, "}")
            : string.Concat(prefix, ":", encodedBucket, ":{", Hash(value), "}");

    /// <summary>
    /// The form <paramref name="bucket"/> takes inside a key: itself when it has only letters, digits and
    /// <c>. _ - /</c> (every name a <c>[TokenBucket]</c> may declare), otherwise each other character as <c>%XX</c>.
    /// </summary>
    internal static string EncodeName(string bucket)
    {
        if (TokenBucketLimits.IsValidBucketName(bucket))
        {
            return bucket;
        }
        var encoded = new System.Text.StringBuilder(bucket.Length + 16);
        foreach (var c in bucket)
        {
            if (TokenBucketLimits.IsBucketNameChar(c))
            {
                encoded.Append(c);
            }
            else
            {
                // Bucket names are ASCII, so one byte per character; '%' itself is encoded, so decoding is unique.
                encoded.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return encoded.ToString();
    }

    /// <summary>The form a client value takes inside a key: itself when safe, otherwise its hash.</summary>
    public static string Normalize(string value) => IsSafeRawValue(value) ? value : Hash(value);

    /// <summary>Whether <paramref name="value"/> can appear in a key verbatim.</summary>
    public static bool IsSafeRawValue(string value)
    {
        if (value.Length is 0 or > MaxRawValueLength)
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '@' or '+' or '/'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Whether <paramref name="segment"/> may be used as a key prefix or bucket name segment.</summary>
    internal static bool IsValidPrefix(string? segment) => TokenBucketLimits.IsValidBucketName(segment);

    private static string Hash(string value)
    {
        // Hash the UTF-16 code units themselves: a text encoding would map distinct invalid strings
        // (lone surrogates) to the same bytes, which crafted input could use to make buckets collide.
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(value.AsSpan()), digest);
        Span<char> chars = stackalloc char[HashedValueLength];
        chars[0] = '#';
        Base64Url.EncodeToChars(digest[..HashBytes], chars[1..]);
        return new string(chars);
    }
}
