using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace RateGuard.TestSupport;

/// <summary>
/// A TCP proxy on loopback in front of a server, that can add a delay to every chunk in each direction while it is
/// slow: a slow network or a slow server, as a client sees it, with nothing lost and the order of each direction kept.
/// Everything it starts stops when it is disposed.
/// </summary>
public sealed class LatencyProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private readonly Task _accepting;
    private long _delayTicks;

    public LatencyProxy(int targetPort)
    {
        _target = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>The port clients connect to.</summary>
    public int Port { get; }

    /// <summary>How long each chunk is held in each direction; <see cref="TimeSpan.Zero"/> passes it on at once.</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _delayTicks));
        set => Volatile.Write(ref _delayTicks, value.Ticks);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var server = new TcpClient();
                try
                {
                    await server.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    client.Dispose();
                    server.Dispose();
                    continue;
                }
                lock (_connections)
                {
                    _connections.Add(client);
                    _connections.Add(server);
                }
                _ = PumpAsync(client.GetStream(), server.GetStream(), client, server);
                _ = PumpAsync(server.GetStream(), client.GetStream(), client, server);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // stopped
        }
    }

    // One direction: chunks are read as they come and written once their delay (taken when read) is over, in order.
    private async Task PumpAsync(NetworkStream from, NetworkStream to, TcpClient client, TcpClient server)
    {
        var queue = Channel.CreateUnbounded<(byte[] Data, long Due)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writing = WriteAsync(queue.Reader, to);
        try
        {
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }
                queue.Writer.TryWrite((buffer[..read], Stopwatch.GetTimestamp() + (long)(Delay.TotalSeconds * Stopwatch.Frequency)));
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // the connection or the proxy ended
        }
        queue.Writer.TryComplete();
        await writing;
        client.Dispose();
        server.Dispose();
    }

    private async Task WriteAsync(ChannelReader<(byte[] Data, long Due)> chunks, NetworkStream to)
    {
        try
        {
            await foreach (var (data, due) in chunks.ReadAllAsync(_stop.Token))
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _stop.Token);
                }
                await to.WriteAsync(data, _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // the connection or the proxy ended
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }
        }
        _accepting.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
