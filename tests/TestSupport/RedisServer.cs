using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace RateGuard.TestSupport;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, started for a test and killed afterwards. It never skips:
/// when Redis cannot be started the test fails with the reason.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private RedisServer(int port, IEnumerable<string> extraArguments, string workingDirectory)
    {
        Port = port;
        WorkingDirectory = workingDirectory;
        var start = new ProcessStartInfo(FindExecutable("redis-server"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no" }.Concat(extraArguments))
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The server's working directory (cluster config files live here).</summary>
    public string WorkingDirectory { get; }

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string Configuration => $"127.0.0.1:{Port},allowAdmin=true";

    /// <summary>Starts a server and waits until it answers PING.</summary>
    public static RedisServer Start(params string[] extraArguments) => Start(FreePort(), extraArguments);

    /// <summary>Starts a server on <paramref name="port"/> and waits until it answers PING.</summary>
    public static RedisServer Start(int port, params string[] extraArguments)
    {
        var directory = Directory.CreateTempSubdirectory("rateguard-redis-").FullName;
        var server = new RedisServer(port, extraArguments, directory);
        try
        {
            server.WaitUntilReady(TimeSpan.FromSeconds(10));
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Sends one command over a fresh connection and returns the raw reply (for tests that must bypass the client).</summary>
    public string Command(params string[] parts)
    {
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, Port);
        using var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(parts.Length).Append("\r\n");
        foreach (var part in parts)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }
        var bytes = Encoding.UTF8.GetBytes(request.ToString());
        stream.Write(bytes);
        stream.ReadTimeout = 5000;
        var buffer = new byte[64 * 1024];
        var read = stream.Read(buffer);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>How many script calls (EVAL and EVALSHA) the server has run, from INFO commandstats.</summary>
    public long ScriptCalls() => Command("INFO", "commandstats").Split('\n')
        .Where(line => line.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal) || line.StartsWith("cmdstat_eval:", StringComparison.Ordinal))
        .Sum(line => long.Parse(line[(line.IndexOf("calls=", StringComparison.Ordinal) + "calls=".Length)..line.IndexOf(',')], CultureInfo.InvariantCulture));

    /// <summary>The server's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Freezes the server (SIGSTOP): connections stay open and nothing is answered, as on a hung host.</summary>
    public void Pause() => Signal(SigStop);

    /// <summary>Lets a paused server go on (SIGCONT).</summary>
    public void Resume() => Signal(SigCont);

    private const int SigStop = 19;
    private const int SigCont = 18;

    private void Signal(int signal)
    {
        if (!_process.HasExited && kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>Kills the server at once, as a crash would (SIGKILL).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            Signal(SigCont); // a paused server would not die until it runs again
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Safe to call twice: a test's finally may dispose a server that a failed restart already disposed.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        Kill();
        _process.Dispose();
        try
        {
            Directory.Delete(WorkingDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// A port that nothing listens on right now, at most 55535: a cluster node also listens on its port + 10000, and
    /// redis-server refuses to start in cluster mode above that. The kernel's ephemeral range reaches higher.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (port <= 55535 || attempt == 200)
            {
                return port;
            }
        }
    }

    /// <summary>The full path of a Redis executable, or a failure that says how to install it.</summary>
    public static string FindExecutable(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/local/bin"))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"{name} was not found on PATH. These tests need a real Redis: install it (Debian: apt-get install redis-server) or run ./test.sh, which installs it.");
    }

    private void WaitUntilReady(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode} on port {Port}:\n{Output}");
            }
            try
            {
                // A server with a password answers NOAUTH: it is up all the same.
                if (Command("PING") is var reply && (reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal)))
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }
            catch (IOException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"redis-server on port {Port} did not answer PING within {timeout}:\n{Output}");
            }
            Thread.Sleep(25);
        }
    }

    private string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }
}
