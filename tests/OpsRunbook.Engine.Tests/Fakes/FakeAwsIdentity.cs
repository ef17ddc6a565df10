using System.Collections.Concurrent;
using System.Security;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// The AWS services that hand out temporary credentials, on one Kestrel server, as the SDK's credential chain calls them:
/// <list type="bullet">
/// <item>STS (awsQuery: a form POST with Action and Version=2011-06-15, XML answers; aws-sdk-net
/// sdk/src/Services/SecurityToken/Generated/Model/Internal/MarshallTransformations/AssumeRole*Marshaller.cs):
/// <c>AssumeRoleWithWebIdentity</c>, unsigned (the web identity token is the credential: GitHub OIDC, EKS IRSA), and
/// <c>AssumeRole</c>, SigV4-signed by the source profile's keys (<see cref="SourceAccessKey"/>), as an assume-role
/// profile (<c>role_arn</c> + <c>source_profile</c>) sends it.</item>
/// <item>The IAM Identity Center portal's <c>GetRoleCredentials</c> (restJson: <c>GET /federation/credentials?role_name=&amp;account_id=</c>
/// with the cached SSO access token in <c>x-amz-sso_bearer_token</c>; expiration in epoch milliseconds;
/// sdk/src/Services/SSO/Generated/Model/Internal/MarshallTransformations/GetRoleCredentials*), as an SSO profile
/// sends it after `aws sso login` left a token in ~/.aws/sso/cache.</item>
/// </list>
/// Every path hands out the credentials it was given, so a client signing with them reaches a fake that checks SigV4
/// (FakeSecretsManager). Each call is recorded with its action, role, session name and token.
/// </summary>
public sealed class FakeAwsIdentity : IAsyncDisposable
{
    /// <summary>The key pair an assume-role profile's source profile holds; AssumeRole must be signed with it.</summary>
    public const string SourceAccessKey = "AKIDSOURCEPROFILE";
    public const string SourceSecretKey = "source/profile/secret/key/0123456789";
    /// <summary>The SSO access token `aws sso login` would have cached; GetRoleCredentials accepts only it.</summary>
    public const string SsoAccessToken = "aoaAAAAAGfakeSsoAccessToken0123456789";

    private readonly FakeHttpServer _server;
    private readonly string _accessKey, _secretKey, _sessionToken;

    private FakeAwsIdentity(FakeHttpServer server, string accessKey, string secretKey, string sessionToken)
    {
        _server = server;
        (_accessKey, _secretKey, _sessionToken) = (accessKey, secretKey, sessionToken);
    }

    public string Endpoint => _server.BaseUrl;
    /// <summary>Action (AssumeRole, AssumeRoleWithWebIdentity, GetRoleCredentials), role (ARN, or account/role for SSO), session name, token.</summary>
    public ConcurrentQueue<(string Action, string Role, string SessionName, string Token)> Calls { get; } = new();

    public static async Task<FakeAwsIdentity> StartAsync(string accessKey, string secretKey, string sessionToken, int port = 0)
    {
        FakeAwsIdentity? self = null;
        var server = await FakeHttpServer.StartAsync((ctx, _) => self!.Handle(ctx), port: port);
        self = new FakeAwsIdentity(server, accessKey, secretKey, sessionToken);
        return self;
    }

    private Task Handle(HttpContext ctx) =>
        ctx.Request.Method == "GET" && ctx.Request.Path == "/federation/credentials" ? RoleCredentials(ctx) : Sts(ctx);

    private async Task RoleCredentials(HttpContext ctx)
    {
        var token = ctx.Request.Headers["x-amz-sso_bearer_token"].ToString();
        string role = ctx.Request.Query["role_name"].ToString(), account = ctx.Request.Query["account_id"].ToString();
        Calls.Enqueue(("GetRoleCredentials", $"{account}/{role}", "", token));
        ctx.Response.ContentType = "application/json";
        if (token != SsoAccessToken)
        {
            // The portal's answer to an expired or unknown token (x-amzn-ErrorType names the error in restJson).
            ctx.Response.StatusCode = 401;
            ctx.Response.Headers["x-amzn-ErrorType"] = "UnauthorizedException";
            await ctx.Response.WriteAsync("""{"message":"Session token not found or invalid"}""");
            return;
        }
        if (role.Length == 0 || account.Length != 12)
        {
            ctx.Response.StatusCode = 400;
            ctx.Response.Headers["x-amzn-ErrorType"] = "InvalidRequestException";
            await ctx.Response.WriteAsync("""{"message":"role_name and a 12-digit account_id are required"}""");
            return;
        }
        await ctx.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            roleCredentials = new
            {
                accessKeyId = _accessKey, secretAccessKey = _secretKey, sessionToken = _sessionToken,
                expiration = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds(),
            },
        }));
    }

    private async Task Sts(HttpContext ctx)
    {
        var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(body);
        string Field(string name) => form.TryGetValue(name, out var v) ? v.ToString() : "";
        var action = Field("Action");
        Calls.Enqueue((action, Field("RoleArn"), Field("RoleSessionName"), Field("WebIdentityToken")));
        ctx.Response.ContentType = "text/xml";
        if (Field("Version") != "2011-06-15" || Field("RoleArn").Length == 0 || Field("RoleSessionName").Length == 0)
        {
            await Error(ctx, 400, "ValidationError", "RoleArn, RoleSessionName and Version=2011-06-15 are required");
            return;
        }
        switch (action)
        {
            case "AssumeRoleWithWebIdentity" when Field("WebIdentityToken").Length == 0:
                await Error(ctx, 400, "ValidationError", "WebIdentityToken is required");
                return;
            case "AssumeRoleWithWebIdentity":
                break;
            case "AssumeRole" when !SigV4.Valid(ctx.Request, body, SourceAccessKey, SourceSecretKey, "sts", region: null, ["host", "x-amz-date"], out var why):
                await Error(ctx, 403, "SignatureDoesNotMatch", why);
                return;
            case "AssumeRole":
                break;
            default:
                await Error(ctx, 400, "InvalidAction", $"Could not find operation {action} for version 2011-06-15");
                return;
        }
        var expiration = DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var session = SecurityElement.Escape(Field("RoleSessionName"));
        var webIdentity = action == "AssumeRoleWithWebIdentity"
            ? "<SubjectFromWebIdentityToken>repo:example/app:ref:refs/heads/main</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience><Provider>token.actions.githubusercontent.com</Provider>"
            : "";
        await ctx.Response.WriteAsync($"""
            <{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <{action}Result>
                <Credentials>
                  <SessionToken>{SecurityElement.Escape(_sessionToken)}</SessionToken>
                  <SecretAccessKey>{SecurityElement.Escape(_secretKey)}</SecretAccessKey>
                  <Expiration>{expiration}</Expiration>
                  <AccessKeyId>{SecurityElement.Escape(_accessKey)}</AccessKeyId>
                </Credentials>
                <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/deploy/{session}</Arn><AssumedRoleId>AROATEST:{session}</AssumedRoleId></AssumedRoleUser>
                {webIdentity}
              </{action}Result>
              <ResponseMetadata><RequestId>fake-sts-1</RequestId></ResponseMetadata>
            </{action}Response>
            """);
    }

    private static Task Error(HttpContext ctx, int status, string code, string message)
    {
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsync($"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{SecurityElement.Escape(message)}</Message></Error><RequestId>r</RequestId></ErrorResponse>""");
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
