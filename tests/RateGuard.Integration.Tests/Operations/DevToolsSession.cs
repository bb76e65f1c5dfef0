using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// A Chrome DevTools Protocol session with one page, over a plain <see cref="ClientWebSocket"/>: commands by id, and
/// the page's console messages, exceptions and browser log entries (where Content-Security-Policy violations are
/// reported) kept for assertions.
/// </summary>
public sealed class DevToolsSession : IAsyncDisposable
{
    // Generous: one command waits behind the page's own work, which a busy machine slows.
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(60);

    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly ConcurrentQueue<string> _messages = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private int _nextId;

    private DevToolsSession(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = Task.Run(ReceiveAsync);
    }

    /// <summary>What the page logged, threw, or the browser reported about it, one line each.</summary>
    public IReadOnlyCollection<string> Messages => _messages;

    public static async Task<DevToolsSession> ConnectAsync(Uri webSocketUrl)
    {
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(s_commandTimeout);
        await socket.ConnectAsync(webSocketUrl, timeout.Token);
        var session = new DevToolsSession(socket);
        await session.SendAsync("Page.enable");
        await session.SendAsync("Runtime.enable");
        await session.SendAsync("Log.enable");
        return session;
    }

    /// <summary>Sends a command and returns its result; a command the browser refuses fails the test.</summary>
    public async Task<JsonElement> SendAsync(string method, object? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        await _sending.WaitAsync();
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        }
        finally
        {
            _sending.Release();
        }
        var result = await reply.Task.WaitAsync(s_commandTimeout);
        if (result.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"DevTools refused {method}: {error}");
        }
        return result.GetProperty("result");
    }

    /// <summary>
    /// Evaluates <paramref name="expression"/> in the page (awaiting a promise it returns) and returns its value as
    /// JSON; a script error fails the test with the page's message.
    /// </summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            throw new InvalidOperationException($"The page threw evaluating {expression}: {exception}");
        }
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    /// <summary>
    /// Evaluates <paramref name="expression"/> until it returns something other than null, undefined or false, and
    /// returns that. Polls rather than sleeping a fixed time, with a bound generous enough for a busy machine.
    /// </summary>
    public async Task<JsonElement> WaitForAsync(string expression, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var value = await EvaluateAsync(expression);
            if (value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.False))
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {(timeout ?? TimeSpan.FromSeconds(90)).TotalSeconds} s for {what} ({expression}). The page said:\n{string.Join("\n", _messages)}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Opens <paramref name="url"/> and waits until the document and its script have loaded.</summary>
    public async Task NavigateAsync(Uri url)
    {
        var result = await SendAsync("Page.navigate", new { url = url.ToString() });
        if (result.TryGetProperty("errorText", out var error))
        {
            throw new InvalidOperationException($"Chromium could not open {url}: {error}");
        }
        await WaitForAsync($"location.href === {JsonSerializer.Serialize(url.ToString())} && document.readyState === 'complete'", $"{url} to load");
    }

    /// <summary>Clicks at a point in the page as a mouse would: moved there, pressed and released.</summary>
    public async Task ClickAsync(double x, double y)
    {
        await SendAsync("Input.dispatchMouseEvent", new { type = "mouseMoved", x, y });
        await SendAsync("Input.dispatchMouseEvent", new { type = "mousePressed", x, y, button = "left", clickCount = 1 });
        await SendAsync("Input.dispatchMouseEvent", new { type = "mouseReleased", x, y, button = "left", clickCount = 1 });
    }

    /// <summary>A PNG of the viewport.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png" });
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The browser is about to be killed anyway.
        }
        _socket.Abort();
        try
        {
            await _receiving;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        _socket.Dispose();
        _stop.Dispose();
        _sending.Dispose();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                message.SetLength(0);
                WebSocketReceiveResult received;
                do
                {
                    received = await _socket.ReceiveAsync(buffer, _stop.Token);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                    message.Write(buffer, 0, received.Count);
                }
                while (!received.EndOfMessage);
                Dispatch(message.GetBuffer().AsMemory(0, (int)message.Length));
            }
        }
        finally
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new InvalidOperationException($"The DevTools connection closed. The page said:\n{string.Join("\n", _messages)}"));
            }
        }
    }

    private void Dispatch(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.TryGetProperty("id", out var id))
        {
            if (_pending.TryRemove(id.GetInt32(), out var reply))
            {
                reply.TrySetResult(root.Clone());
            }
            return;
        }
        var parameters = root.TryGetProperty("params", out var p) ? p : default;
        switch (root.GetProperty("method").GetString())
        {
            case "Runtime.consoleAPICalled":
                var arguments = parameters.GetProperty("args").EnumerateArray()
                    .Select(a => a.TryGetProperty("value", out var v) ? v.ToString() : a.TryGetProperty("description", out var d) ? d.GetString() : a.ToString());
                _messages.Enqueue($"console.{parameters.GetProperty("type").GetString()}: {string.Join(" ", arguments)}");
                break;
            case "Runtime.exceptionThrown":
                var details = parameters.GetProperty("exceptionDetails");
                var description = details.TryGetProperty("exception", out var e) && e.TryGetProperty("description", out var text) ? text.GetString() : details.GetProperty("text").GetString();
                _messages.Enqueue($"exception: {description}");
                break;
            case "Log.entryAdded":
                var entry = parameters.GetProperty("entry");
                _messages.Enqueue($"log {entry.GetProperty("level").GetString()} ({entry.GetProperty("source").GetString()}): {entry.GetProperty("text").GetString()}");
                break;
        }
    }
}
