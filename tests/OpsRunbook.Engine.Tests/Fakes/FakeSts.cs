using System.Collections.Concurrent;
using System.Security;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// AWS STS's AssumeRoleWithWebIdentity on Kestrel, in the awsQuery protocol the SDK speaks to it (a form POST with
/// Action=AssumeRoleWithWebIdentity&amp;Version=2011-06-15, unsigned: the web identity token is the credential; the
/// answer is XML). It hands out the credentials it was given, so a client signing with them reaches a fake that
/// checks SigV4 (FakeSecretsManager), and it records each request's role, session name and token.
/// </summary>
public sealed class FakeSts : IAsyncDisposable
{
    private readonly FakeHttpServer _server;
    private readonly string _accessKey, _secretKey, _sessionToken;

    private FakeSts(FakeHttpServer server, string accessKey, string secretKey, string sessionToken)
    {
        _server = server;
        (_accessKey, _secretKey, _sessionToken) = (accessKey, secretKey, sessionToken);
    }

    public string Endpoint => _server.BaseUrl;
    public ConcurrentQueue<(string Action, string RoleArn, string SessionName, string Token)> Calls { get; } = new();

    public static async Task<FakeSts> StartAsync(string accessKey, string secretKey, string sessionToken, int port = 0)
    {
        FakeSts? self = null;
        var server = await FakeHttpServer.StartAsync((ctx, _) => self!.Handle(ctx), port: port);
        self = new FakeSts(server, accessKey, secretKey, sessionToken);
        return self;
    }

    private async Task Handle(HttpContext ctx)
    {
        var form = await ctx.Request.ReadFormAsync();
        var action = form["Action"].ToString();
        Calls.Enqueue((action, form["RoleArn"].ToString(), form["RoleSessionName"].ToString(), form["WebIdentityToken"].ToString()));
        ctx.Response.ContentType = "text/xml";
        if (action != "AssumeRoleWithWebIdentity" || form["Version"] != "2011-06-15" || string.IsNullOrEmpty(form["WebIdentityToken"]))
        {
            ctx.Response.StatusCode = 400;
            await ctx.Response.WriteAsync("""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unsupported</Message></Error><RequestId>r</RequestId></ErrorResponse>""");
            return;
        }
        var expiration = DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        await ctx.Response.WriteAsync($"""
            <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <AssumeRoleWithWebIdentityResult>
                <Credentials>
                  <SessionToken>{SecurityElement.Escape(_sessionToken)}</SessionToken>
                  <SecretAccessKey>{SecurityElement.Escape(_secretKey)}</SecretAccessKey>
                  <Expiration>{expiration}</Expiration>
                  <AccessKeyId>{SecurityElement.Escape(_accessKey)}</AccessKeyId>
                </Credentials>
                <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/deploy/{SecurityElement.Escape(form["RoleSessionName"].ToString())}</Arn><AssumedRoleId>AROATEST:{SecurityElement.Escape(form["RoleSessionName"].ToString())}</AssumedRoleId></AssumedRoleUser>
                <SubjectFromWebIdentityToken>repo:example/app:ref:refs/heads/main</SubjectFromWebIdentityToken>
                <Audience>sts.amazonaws.com</Audience>
                <Provider>token.actions.githubusercontent.com</Provider>
              </AssumeRoleWithWebIdentityResult>
              <ResponseMetadata><RequestId>fake-sts-1</RequestId></ResponseMetadata>
            </AssumeRoleWithWebIdentityResponse>
            """);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
