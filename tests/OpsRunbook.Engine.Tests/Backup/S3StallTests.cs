using System.Net;
using System.Net.Sockets;
using System.Text;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Health.Checks;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// An S3 endpoint that holds the connection and never answers (issue 12: a backup hung for over 7 minutes). Each request
/// has a limit; the failure names the endpoint. Nothing here measures time: a request that hung would hang the test.
/// </summary>
public class S3StallTests(TestServers servers) : BackupTestBase(servers)
{
    private AwsSettings Stalled(int port) => S3($"http://127.0.0.1:{port}", TimeSpan.FromSeconds(1));

    [Fact]
    public async Task A_backup_to_a_stalled_endpoint_is_a_failed_result_naming_it()
    {
        // A listener that never accepts: the kernel completes the handshake (backlog), nobody ever reads or answers.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var info = await BackupRunner.RunAsync(new BackupRequest
            {
                Connection = Conn, Destinations = [new BackupLocation(_local), new BackupLocation("s3://bucket/backups/")],
                Compression = BackupCompression.None, CountRows = false,
            }, Context(Stalled(port)));
            Assert.Equal(BackupStatus.Failed, info.Status);
            Assert.Contains($"S3 at http://127.0.0.1:{port} did not answer", info.Error);
            Assert.Contains("requestTimeout", info.Error);
            // The local copy went with it: no backup looks complete.
            Assert.Empty(Directory.EnumerateFiles(_local, "*", SearchOption.AllDirectories));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task A_download_that_stops_flowing_fails_naming_the_endpoint()
    {
        // Headers and the first bytes of a 1 MB object, then silence, the connection held open.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var held = new List<TcpClient>();
        var server = Task.Run(async () =>
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(Ct);
                held.Add(client);
                var stream = client.GetStream();
                var buffer = new byte[16384];
                var request = "";
                while (!request.Contains("\r\n\r\n", StringComparison.Ordinal)) request += Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer, Ct));
                var head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\nETag: \"d41d8cd98f00b204e9800998ecf8427e\"\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head + new string('a', 100)), Ct);
            }
        }, Ct);
        try
        {
            using var store = await BackupStores.OpenAsync(new BackupLocation("s3://bucket/backups/"), Context(Stalled(port)));
            await using var body = await store.OpenReadAsync("x.dump", Ct);
            var ex = await Assert.ThrowsAsync<DescribedFailureException>(() => body.CopyToAsync(Stream.Null, Ct));
            Assert.Contains($"S3 at http://127.0.0.1:{port} did not answer GET backups/x.dump", ex.Message);
            Assert.Equal(FailureKind.Timeout, ex.Kind);
        }
        finally
        {
            listener.Stop();
            foreach (var c in held) c.Dispose();
        }
    }
}
