using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using RateGuard.Clients;
using RateGuard.CompilerServices;
using RateGuard.Configuration;
using RateGuard.Limiting;
using RateGuard.Outcomes;

namespace RateGuard.Http;

/// <summary>
/// Runs each endpoint's gates after routing has chosen the endpoint and before the endpoint runs, so a rejected
/// request is answered before its body is read or bound, for minimal APIs and MVC alike.
/// </summary>
internal sealed class TokenBucketMiddleware
{
    private readonly RequestDelegate _next;
    private readonly EndpointGateTable _table;
    private readonly TokenBucketLimiter _limiter;
    private readonly ClientOverrides _overrides;
    private readonly CurrentOptions _options;
    private readonly IProblemDetailsService? _problemDetails;
    private readonly ILogger _logger;
    private readonly bool _authenticates;
    private readonly ChargeChecks _chargeChecks;
    // Set once the pipeline's order has been found wrong and said so: the error is logged once, not per request.
    private int _routingReported;
    private int _authenticationReported;
    // When the next request behind an unapplied proxy may be reported (Environment.TickCount64): the first at once,
    // then at most one an hour, so a misconfigured app says so without a line per request.
    private long _forwardedDue;
    private static readonly long s_forwardedQuiet = (long)TimeSpan.FromHours(1).TotalMilliseconds;

    public TokenBucketMiddleware(RequestDelegate next, EndpointGateTable table, TokenBucketLimiter limiter, ClientOverrides overrides, CurrentOptions options, IProblemDetailsService? problemDetails, ILogger logger, bool authenticates, bool development)
    {
        _chargeChecks = new ChargeChecks(development, logger);
        _next = next;
        _table = table;
        _limiter = limiter;
        _overrides = overrides;
        _options = options;
        _problemDetails = problemDetails;
        _logger = logger;
        _authenticates = authenticates;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            // No endpoint yet: either no route matches, or routing runs later in the pipeline than this middleware.
            return Volatile.Read(ref _routingReported) == 0 ? WatchForLateRoutingAsync(context) : _next(context);
        }
        // One snapshot for the whole request: a reload in the middle of it does not mix two configurations.
        var options = _options.Value;
        if (_table.Get(endpoint) is not { } gates || !options.Enabled)
        {
            return _next(context);
        }
        if (options.ExemptNetworkList() is { IsEmpty: false } exempt && exempt.Contains(context.Connection.RemoteIpAddress))
        {
            // A health checker or an internal caller: no limit applies, and each is counted as skipped.
            foreach (var gate in gates.Gates)
            {
                _limiter.CountExempt(gate.Policy);
            }
            return _next(context);
        }
        return LimitAsync(context, gates, options);
    }

    // An endpoint that appears only after the rest of the pipeline ran was selected by a UseRouting() placed after
    // UseTokenBuckets(): its limits were never applied, and nothing else would say so.
    private async Task WatchForLateRoutingAsync(HttpContext context)
    {
        await _next(context);
        if (context.GetEndpoint() is { } selected && _table.Get(selected) is not null && Interlocked.Exchange(ref _routingReported, 1) == 0)
        {
            Diagnostics.Log.NoEndpointSelected(_logger, selected.DisplayName ?? selected.ToString() ?? "endpoint");
        }
    }

    // A user or claim key of a request that authentication has not seen: the app authenticates, but later in the
    // pipeline than this middleware, so every such key reads as missing.
    private void WatchForLateAuthentication(HttpContext context, ConfiguredGate gate)
    {
        if (_authenticates && gate.KeysOnUser && context.Features.Get<IAuthenticationFeature>() is null
            && Interlocked.Exchange(ref _authenticationReported, 1) == 0)
        {
            Diagnostics.Log.NotAuthenticatedYet(_logger, gate.Policy.Name, gate.KeyDescription);
        }
    }

    // A request that names its client in X-Forwarded-For, keyed on the connection's address: forwarded headers are not
    // applied before this middleware (UseForwardedHeaders absent, after it, or not trusting this proxy), so behind a
    // proxy every client shares the proxy's bucket. Applied headers leave X-Original-For, or no X-Forwarded-For at all.
    private void WatchForUnappliedForwardedHeaders(HttpContext context, ConfiguredGate gate)
    {
        var due = Volatile.Read(ref _forwardedDue);
        var now = Environment.TickCount64;
        if (now < due)
        {
            return;
        }
        var headers = context.Request.Headers;
        if (!headers.ContainsKey(ForwardedFor) || headers.ContainsKey(OriginalFor)
            || Interlocked.CompareExchange(ref _forwardedDue, now + s_forwardedQuiet, due) != due)
        {
            return;
        }
        Diagnostics.Log.ForwardedHeadersNotApplied(_logger, gate.Policy.Name, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }

    private const string ForwardedFor = "X-Forwarded-For";
    private const string OriginalFor = "X-Original-For";

    // Every bucket must admit, and all are decided together: the request is admitted only if each holds its cost, and
    // then each is charged; if any rejects, none is. Every key is read first, so a request without one is answered
    // before any bucket is touched. Pooled arrays hold the buckets and their decisions, one bucket or several.
    private async Task LimitAsync(HttpContext context, EndpointGates gates, TokenBucketOptions options)
    {
        var request = LimitRequest.Rent();
        GateDecision[]? decisions = null;
        RequestCharges? charges = null;
        try
        {
            for (var g = 0; g < gates.Gates.Length; g++)
            {
                var gate = gates.Gates[g];
                if (gate.GetPartitionKey(context) is { } key)
                {
                    if (gate.KeysOnRemoteAddress)
                    {
                        WatchForUnappliedForwardedHeaders(context, gate);
                    }
                    var policy = gate.Policy;
                    switch (Judge(context, gate, key, ref policy))
                    {
                        case ClientVerdict.Exempt:
                            _limiter.CountExempt(policy);
                            continue;
                        case ClientVerdict.Denied when gate.Shadow:
                            _limiter.CountShadowRejected(policy);
                            continue;
                        case ClientVerdict.Denied:
                            _limiter.CountDenied(policy);
                            await RejectDeniedAsync(context, gate, options);
                            return;
                    }
                    request.Add(policy, gate.FailureMode, key, g, gate.Shadow, gate.Outcomes is not null);
                    continue;
                }
                WatchForLateAuthentication(context, gate);
                if (options.MissingKey == MissingKeyBehavior.Reject)
                {
                    // A limit that only watches lets through what it would refuse; one that admits keyless requests
                    // (MissingKey Admit) would refuse nothing, so there is nothing to count.
                    if (gate.Shadow)
                    {
                        _limiter.CountShadowRejected(gate.Policy);
                        continue;
                    }
                    // Authorization can judge the caller only once authentication has run (a pipeline that authenticates
                    // later is an order mistake, reported above).
                    if ((!_authenticates || context.Features.Get<IAuthenticationFeature>() is not null)
                        && await AuthorizationFirst.TryAnswerAsync(context, context.GetEndpoint()!))
                    {
                        return;
                    }
                    _limiter.CountMissingKey(gate.Policy);
                    await RejectMissingKeyAsync(context, gate, options);
                    return;
                }
            }
            if (request.Count > 0)
            {
                bool admitted;
                try
                {
                    admitted = await _limiter.AcquireAsync(request, context.RequestAborted);
                }
                catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                {
                    // Nobody is left to answer: the limiter has counted it, and an exception would only be noise.
                    Diagnostics.Log.RequestCanceled(_logger);
                    return;
                }
                decisions = ArrayPool<GateDecision>.Shared.Rent(request.Count);
                var described = 0;
                var deciding = -1;
                for (var i = 0; i < request.Count; i++)
                {
                    var result = request.Results[i];
                    if (result.HasBucketState)
                    {
                        decisions[described++] = new GateDecision(gates.Gates[request.Tag(i)], request.Policy(i), result.Decision);
                    }
                    // A bucket in shadow mode does not refuse the request, nor say why it is refused.
                    if (!admitted && result.Rejects && !request.Shadow(i) && (deciding < 0 || Later(result, request.Results[deciding])))
                    {
                        deciding = i;
                    }
                }
                // Refused by buckets in shadow mode alone (a store that cannot leave them out of its decision): let through.
                admitted |= deciding < 0 && request.AnyShadow && OnlyShadowRejects(request);
                RateLimitHeaders.Write(context.Response, options.Headers, gates, decisions.AsSpan(0, described));
                if (!admitted)
                {
                    deciding = Math.Max(deciding, 0);
                    await RejectAsync(context, gates.Gates[request.Tag(deciding)], request.Policy(deciding), request.Results[deciding], options);
                    return;
                }
                if (gates.SettlesOutcomes)
                {
                    charges = Charges(request, gates);
                }
            }
        }
        finally
        {
            LimitRequest.Return(request);
            if (decisions is not null)
            {
                ArrayPool<GateDecision>.Shared.Return(decisions, clearArray: true);
            }
        }
        if (charges is null)
        {
            await _next(context);
            return;
        }
        // Settled here rather than in a method of its own, so a request that settles runs in one state machine.
        if (charges.Charges)
        {
            context.Features.Set<ITokenBucketChargeFeature>(charges);
        }
        try
        {
            await _next(context);
        }
        catch
        {
            charges.Finish(StatusCodes.Status500InternalServerError);
            throw;
        }
        charges.Finish(context.Response.StatusCode);
    }

    // The limits that settle once the response is known, among those that charged this request: the handler may report
    // its actual cost meanwhile, and a response a limit does not count gets its cost back.
    private RequestCharges? Charges(LimitRequest request, EndpointGates gates)
    {
        RequestCharges? charges = null;
        for (var i = 0; i < request.Count; i++)
        {
            var result = request.Results[i];
            if (gates.Gates[request.Tag(i)].Outcomes is { } outcomes && result.Source == DecisionSource.Store && result.Decision.IsAdmitted && !result.ShadowRejects)
            {
                (charges ??= new RequestCharges(_limiter, _chargeChecks, request.Count)).Add(request.Policy(i), request.Key(i), outcomes);
            }
        }
        return charges;
    }

    private static bool OnlyShadowRejects(LimitRequest request)
    {
        for (var i = 0; i < request.Count; i++)
        {
            if (!request.Results[i].IsAdmitted && !request.Shadow(i) && request.Results[i].Source != DecisionSource.NotAsked)
            {
                return false;
            }
        }
        return true;
    }

    // Who the client is to this limit, in order of precedence: a key the bucket's lists deny or exempt; an operator's
    // override of the client's limits; the client's plan. A limit with no lists or plans, on an app with no overrides,
    // costs a null check and a read of one field.
    private ClientVerdict Judge(HttpContext context, ConfiguredGate gate, string key, ref TokenBucketPolicy policy)
    {
        var clients = gate.Clients;
        if (clients is not null && clients.Listed(key) is var listed and not ClientVerdict.Limited)
        {
            return listed;
        }
        if (!_overrides.IsEmpty && _overrides.TryGet(policy, key, out var overridden))
        {
            policy = overridden;
            return ClientVerdict.Limited;
        }
        return clients is null ? ClientVerdict.Limited : clients.ApplyPlan(context, key, ref policy);
    }

    // The bucket a rejection is told by: a store that cannot decide (503) before a bucket that rejected, then the longest
    // wait, since the request can only pass once every bucket can admit it.
    private static bool Later(LimiterResult candidate, LimiterResult current) =>
        (candidate.Source == DecisionSource.FailedClosed) != (current.Source == DecisionSource.FailedClosed)
            ? candidate.Source == DecisionSource.FailedClosed
            : candidate.Decision.RetryAfter > current.Decision.RetryAfter;

    private Task RejectDeniedAsync(HttpContext context, ConfiguredGate gate, TokenBucketOptions options)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        var denied = new TokenBucketRejectedContext(context, TokenBucketRejectionReason.Denied, gate.Policy, gate.KeyDescription, null);
        return RespondAsync(denied, $"Rate limit '{gate.Policy.Name}' does not admit this client: its {gate.KeyDescription} is on the bucket's deny list.", options);
    }

    private Task RejectAsync(HttpContext context, ConfiguredGate gate, TokenBucketPolicy policy, LimiterResult result, TokenBucketOptions options)
    {
        var decision = result.Decision;
        if (result.Source == DecisionSource.FailedClosed)
        {
            // The bucket's failure mode is Closed and the store cannot decide: refuse, and say when to try again.
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            var wait = SetRetryAfter(context.Response, decision.RetryAfter);
            var unavailable = new TokenBucketRejectedContext(context, TokenBucketRejectionReason.StoreUnavailable, gate.Policy, gate.KeyDescription, null);
            return RespondAsync(unavailable,
                $"Rate limit '{gate.Policy.Name}' cannot be checked right now, and it does not admit requests unchecked. Retry after {wait} s.", options);
        }

        context.Response.StatusCode = options.RejectionStatusCode;
        // The policy this client was decided by: its plan's or its override's, if it has one.
        string detail;
        if (decision.CanEverBeAdmitted)
        {
            var seconds = SetRetryAfter(context.Response, decision.RetryAfter);
            var rate = policy.Rate.ToString(CultureInfo.InvariantCulture);
            // A bucket holds tokens; only when a request takes one token does a token mean a request.
            detail = policy.Cost == 1
                ? $"Rate limit '{policy.Name}' exceeded: {policy.Capacity} {(policy.Capacity == 1 ? "request" : "requests")}, refilled at {rate} per second. Retry after {seconds} s."
                : $"Rate limit '{policy.Name}' exceeded: {policy.Capacity} tokens, refilled at {rate} per second, and each request costs {policy.Cost}. Retry after {seconds} s.";
        }
        else
        {
            detail = $"Rate limit '{policy.Name}': a request costs {policy.Cost} tokens but the bucket holds at most {policy.Capacity}, so it can never be admitted.";
        }
        var rejected = new TokenBucketRejectedContext(context, TokenBucketRejectionReason.RateLimited, policy, gate.KeyDescription, decision);
        return RespondAsync(rejected, detail, options);
    }

    // Retry-After in whole seconds, rounded up and never 0, which would invite an immediate retry.
    private static long SetRetryAfter(HttpResponse response, TimeSpan wait)
    {
        var seconds = Math.Max(1, RateLimitHeaders.CeilingSeconds(wait));
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }

    private Task RejectMissingKeyAsync(HttpContext context, ConfiguredGate gate, TokenBucketOptions options)
    {
        context.Response.StatusCode = options.MissingKeyStatusCode;
        var detail = $"Rate limit '{gate.Policy.Name}' needs a value for its key {gate.KeyDescription}, and this request has none.";
        var rejected = new TokenBucketRejectedContext(context, TokenBucketRejectionReason.MissingKey, gate.Policy, gate.KeyDescription, null);
        return RespondAsync(rejected, detail, options);
    }

    private async Task RespondAsync(TokenBucketRejectedContext rejected, string detail, TokenBucketOptions options)
    {
        if (options.OnRejected is { } onRejected)
        {
            await onRejected(rejected);
            return;
        }

        var context = rejected.HttpContext;
        var (type, title) = ProblemType.For(context.Response.StatusCode);
        var problem = new ProblemDetails { Status = context.Response.StatusCode, Title = title, Type = type, Detail = detail };
        if (_problemDetails is not null && await _problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }))
        {
            return;
        }
        await WriteProblemAsync(context.Response, problem);
    }

    private static async Task WriteProblemAsync(HttpResponse response, ProblemDetails problem)
    {
        response.ContentType = ProblemJson.ContentType;
        var buffer = new ArrayBufferWriter<byte>(512);
        // A JSON body, never embedded in HTML, so the relaxed encoder's plain apostrophes and quotes are safe.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            ProblemJson.Write(json, problem.Type, problem.Title, problem.Status ?? response.StatusCode, problem.Detail);
        }
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, response.HttpContext.RequestAborted);
    }
}
