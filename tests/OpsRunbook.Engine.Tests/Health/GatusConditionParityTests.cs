using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// Conditions give Gatus's answers, case for case. Every case below is transcribed from Gatus's own tests
/// (TwiN/gatus at 08c4635: config/endpoint/condition_test.go TestCondition_Validate and TestCondition_evaluate,
/// pattern/pattern_test.go TestMatch) with Gatus's expected result and, where Gatus shows the resolved condition
/// (a failure, or ResolveSuccessfulConditions), its exact text.
/// </summary>
public class GatusConditionParityTests
{
    // TestCondition_evaluate: name, condition, what the check observed, expected success, Gatus's resolved text (null
    // where Gatus shows the condition unresolved, so there is nothing to compare).
    public static TheoryData<string, string, ConditionContext, bool, string?> Evaluate => new()
    {
        { "ip", "[IP] == 127.0.0.1", new(ip: "127.0.0.1"), true, null },
        { "status", "[STATUS] == 200", new(status: 200), true, null },
        { "status-failure", "[STATUS] == 200", new(status: 500), false, "[STATUS] (500) == 200" },
        { "status-using-less-than", "[STATUS] < 300", new(status: 201), true, null },
        { "status-using-less-than-failure", "[STATUS] < 300", new(status: 404), false, "[STATUS] (404) < 300" },
        { "response-time-using-less-than", "[RESPONSE_TIME] < 500", new(responseTimeMs: 50), true, null },
        { "response-time-using-less-than-with-duration", "[RESPONSE_TIME] < 1s", new(responseTimeMs: 50), true, null },
        { "response-time-using-less-than-invalid", "[RESPONSE_TIME] < potato", new(responseTimeMs: 50), false, "[RESPONSE_TIME] (50) < potato (0)" },
        { "response-time-using-greater-than", "[RESPONSE_TIME] > 500", new(responseTimeMs: 750), true, null },
        { "response-time-using-greater-than-with-duration", "[RESPONSE_TIME] > 1s", new(responseTimeMs: 2000), true, null },
        { "response-time-using-greater-than-or-equal-to-equal", "[RESPONSE_TIME] >= 500", new(responseTimeMs: 500), true, null },
        { "response-time-using-greater-than-or-equal-to-greater", "[RESPONSE_TIME] >= 500", new(responseTimeMs: 499), false, "[RESPONSE_TIME] (499) >= 500" },
        { "response-time-using-greater-than-or-equal-to-failure", "[RESPONSE_TIME] >= 500", new(responseTimeMs: 499), false, "[RESPONSE_TIME] (499) >= 500" },
        { "response-time-using-less-than-or-equal-to-equal", "[RESPONSE_TIME] <= 500", new(responseTimeMs: 500), true, null },
        { "response-time-using-less-than-or-equal-to-less", "[RESPONSE_TIME] <= 500", new(responseTimeMs: 25), true, null },
        { "response-time-using-less-than-or-equal-to-failure", "[RESPONSE_TIME] <= 500", new(responseTimeMs: 750), false, "[RESPONSE_TIME] (750) <= 500" },
        { "body", "[BODY] == test", new(body: "test"), true, null },
        { "body-resolved-on-success", "[BODY].status == UP", new(body: "{\"status\":\"UP\"}"), true, "[BODY].status (UP) == UP" },
        { "body-numerical-equal", "[BODY] == 123", new(body: "123"), true, null },
        { "body-numerical-less-than", "[BODY] < 124", new(body: "123"), true, null },
        { "body-numerical-greater-than", "[BODY] > 122", new(body: "123"), true, null },
        { "body-numerical-greater-than-failure", "[BODY] > 123", new(body: "100"), false, "[BODY] (100) > 123" },
        { "body-jsonpath", "[BODY].status == UP", new(body: "{\"status\":\"UP\"}"), true, null },
        { "body-jsonpath-complex", "[BODY].data.name == john", new(body: "{\"data\": {\"id\": 1, \"name\": \"john\"}}"), true, null },
        { "body-jsonpath-complex-invalid", "[BODY].data.name == john", new(body: "{\"data\": {\"id\": 1}}"), false, "[BODY].data.name (INVALID) == john" },
        { "body-jsonpath-complex-len-invalid", "len([BODY].data.name) == john", new(body: "{\"data\": {\"id\": 1}}"), false, "len([BODY].data.name) (INVALID) == john" },
        { "body-jsonpath-double-placeholder", "[BODY].user.firstName != [BODY].user.lastName", new(body: "{\"user\": {\"firstName\": \"john\", \"lastName\": \"doe\"}}"), true, null },
        { "body-jsonpath-double-placeholder-failure", "[BODY].user.firstName == [BODY].user.lastName", new(body: "{\"user\": {\"firstName\": \"john\", \"lastName\": \"doe\"}}"), false, "[BODY].user.firstName (john) == [BODY].user.lastName (doe)" },
        { "body-jsonpath-when-body-is-array", "[BODY][0].id == 1", new(body: "[{\"id\": 1}, {\"id\": 2}]"), true, null },
        { "body-jsonpath-when-body-has-null-parameter", "[BODY].data == OK", new(body: "{\"data\": null}\""), false, "[BODY].data (INVALID) == OK" },
        { "body-jsonpath-when-body-has-array-with-null", "[BODY].items[0] == OK", new(body: "{\"items\": [null, null]}\""), false, "[BODY].items[0] (INVALID) == OK" },
        { "body-jsonpath-when-body-is-null", "[BODY].data == OK", new(body: "null"), false, "[BODY].data (INVALID) == OK" },
        { "body-jsonpath-when-body-is-array-but-actual-body-is-not", "[BODY][0].name == test", new(body: "{\"statusCode\": 500, \"message\": \"Internal Server Error\"}"), false, "[BODY][0].name (INVALID) == test" },
        { "body-jsonpath-complex-int", "[BODY].data.id == 1", new(body: "{\"data\": {\"id\": 1}}"), true, null },
        { "body-jsonpath-complex-array-int", "[BODY].data[1].id == 2", new(body: "{\"data\": [{\"id\": 1}, {\"id\": 2}, {\"id\": 3}]}"), true, null },
        { "body-jsonpath-complex-int-using-greater-than", "[BODY].data.id > 0", new(body: "{\"data\": {\"id\": 1}}"), true, null },
        { "body-jsonpath-hexadecimal-int-using-greater-than", "[BODY].data > 0", new(body: "{\"data\": \"0x1\"}"), true, null },
        { "body-jsonpath-hexadecimal-int-using-equal-to-0x1", "[BODY].data == 1", new(body: "{\"data\": \"0x1\"}"), true, null },
        { "body-jsonpath-hexadecimal-int-using-equals", "[BODY].data == 0x1", new(body: "{\"data\": \"0x1\"}"), true, null },
        { "body-jsonpath-hexadecimal-int-using-equal-to-0x2", "[BODY].data == 2", new(body: "{\"data\": \"0x2\"}"), true, null },
        { "body-jsonpath-hexadecimal-int-using-equal-to-0xF", "[BODY].data == 15", new(body: "{\"data\": \"0xF\"}"), true, null },
        { "body-jsonpath-hexadecimal-int-using-equal-to-0xC0ff33", "[BODY].data == 12648243", new(body: "{\"data\": \"0xC0ff33\"}"), true, null },
        { "body-jsonpath-hexadecimal-int-len", "len([BODY].data) == 3", new(body: "{\"data\": \"0x1\"}"), true, null },
        { "body-jsonpath-hexadecimal-int-greater", "[BODY].data >= 1", new(body: "{\"data\": \"0x01\"}"), true, null },
        { "body-jsonpath-hexadecimal-int-0x01-len", "len([BODY].data) == 4", new(body: "{\"data\": \"0x01\"}"), true, null },
        { "body-jsonpath-octal-int-using-greater-than", "[BODY].data > 0", new(body: "{\"data\": \"0o1\"}"), true, null },
        { "body-jsonpath-octal-int-using-equal", "[BODY].data == 2", new(body: "{\"data\": \"0o2\"}"), true, null },
        { "body-jsonpath-octal-int-using-equals", "[BODY].data == 0o2", new(body: "{\"data\": \"0o2\"}"), true, null },
        { "body-jsonpath-binary-int-using-greater-than", "[BODY].data > 0", new(body: "{\"data\": \"0b1\"}"), true, null },
        { "body-jsonpath-binary-int-using-equal", "[BODY].data == 2", new(body: "{\"data\": \"0b0010\"}"), true, null },
        { "body-jsonpath-binary-int-using-equals", "[BODY].data == 0b10", new(body: "{\"data\": \"0b0010\"}"), true, null },
        { "body-jsonpath-complex-int-using-greater-than-failure", "[BODY].data.id > 5", new(body: "{\"data\": {\"id\": 1}}"), false, "[BODY].data.id (1) > 5" },
        { "body-jsonpath-float-using-greater-than-issue433", "[BODY].balance > 100", new(body: "{\"balance\": \"123.40000000000005\"}"), true, null },
        { "body-jsonpath-complex-int-using-less-than", "[BODY].data.id < 5", new(body: "{\"data\": {\"id\": 2}}"), true, null },
        { "body-jsonpath-complex-int-using-less-than-failure", "[BODY].data.id < 5", new(body: "{\"data\": {\"id\": 10}}"), false, "[BODY].data.id (10) < 5" },
        { "connected", "[CONNECTED] == true", new(connected: true), true, null },
        { "connected-failure", "[CONNECTED] == true", new(connected: false), false, "[CONNECTED] (false) == true" },
        { "certificate-expiration-not-set", "[CERTIFICATE_EXPIRATION] == 0", new(), true, null },
        { "certificate-expiration-greater-than-numerical", "[CERTIFICATE_EXPIRATION] > 2419200000", new(certificateExpirationMs: 5184000000), true, null },
        { "certificate-expiration-greater-than-numerical-failure", "[CERTIFICATE_EXPIRATION] > 2419200000", new(certificateExpirationMs: 1209600000), false, "[CERTIFICATE_EXPIRATION] (336h) > 2419200000" },
        { "certificate-expiration-greater-than-duration", "[CERTIFICATE_EXPIRATION] > 12h", new(certificateExpirationMs: 86400000), true, null },
        { "certificate-expiration-greater-than-duration", "[CERTIFICATE_EXPIRATION] > 48h", new(certificateExpirationMs: 86400000), false, "[CERTIFICATE_EXPIRATION] (24h) > 48h" },
        { "no-placeholders", "1 == 2", new(), false, "1 == 2" },
        { "len-body-jsonpath-complex", "len([BODY].data.name) == 4", new(body: "{\"data\": {\"name\": \"john\"}}"), true, null },
        { "len-body-array", "len([BODY]) == 3", new(body: "[{\"id\": 1}, {\"id\": 2}, {\"id\": 3}]"), true, null },
        { "len-body-keyed-array", "len([BODY].data) == 3", new(body: "{\"data\": [{\"id\": 1}, {\"id\": 2}, {\"id\": 3}]}"), true, null },
        { "len-body-array-invalid", "len([BODY].data) == 8", new(body: "{\"name\": \"john.doe\"}"), false, "len([BODY].data) (INVALID) == 8" },
        { "len-body-string", "len([BODY]) == 8", new(body: "john.doe"), true, null },
        { "len-body-keyed-string", "len([BODY].name) == 8", new(body: "{\"name\": \"john.doe\"}"), true, null },
        { "len-body-keyed-int", "len([BODY].age) == 2", new(body: "{\"age\":18}"), true, null },
        { "len-body-keyed-bool", "len([BODY].adult) == 4", new(body: "{\"adult\":true}"), true, null },
        { "len-body-object-inside-array", "len([BODY][0]) == 23", new(body: "[{\"age\":18,\"adult\":true}]"), true, null },
        { "len-body-object-keyed-int-inside-array", "len([BODY][0].age) == 2", new(body: "[{\"age\":18,\"adult\":true}]"), true, null },
        { "len-body-keyed-bool-inside-array", "len([BODY][0].adult) == 4", new(body: "[{\"age\":18,\"adult\":true}]"), true, null },
        { "len-body-object", "len([BODY]) == 20", new(body: "{\"name\": \"john.doe\"}"), true, null },
        { "pat-body-1", "[BODY] == pat(*john*)", new(body: "{\"name\": \"john.doe\"}"), true, null },
        { "pat-body-2", "[BODY].name == pat(john*)", new(body: "{\"name\": \"john.doe\"}"), true, null },
        { "pat-body-failure", "[BODY].name == pat(bob*)", new(body: "{\"name\": \"john.doe\"}"), false, "[BODY].name (john.doe) == pat(bob*)" },
        { "pat-body-html", "[BODY] == pat(*<div id=\"user\">john.doe</div>*)", new(body: "<!DOCTYPE html><html lang=\"en\"><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" /></head><body><div id=\"user\">john.doe</div></body></html>"), true, null },
        { "pat-body-html-failure", "[BODY] == pat(*<div id=\"user\">john.doe</div>*)", new(body: "<!DOCTYPE html><html lang=\"en\"><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" /></head><body><div id=\"user\">jane.doe</div></body></html>"), false, "[BODY] (<!DOCTYPE html><html lang...(truncated)) == pat(*<div id=\"user\">john.doe</div>*)" },
        { "pat-body-html-failure-alt", "pat(*<div id=\"user\">john.doe</div>*) == [BODY]", new(body: "<!DOCTYPE html><html lang=\"en\"><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" /></head><body><div id=\"user\">jane.doe</div></body></html>"), false, "pat(*<div id=\"user\">john.doe</div>*) == [BODY] (<!DOCTYPE html><html lang...(truncated))" },
        { "pat-body-in-array", "[BODY].data == pat(*Whatever*)", new(body: "{\"data\": [\"hello\", \"world\", \"Whatever\"]}"), true, null },
        { "pat-ip", "[IP] == pat(10.*)", new(ip: "10.0.0.0"), true, null },
        { "pat-ip-failure", "[IP] == pat(10.*)", new(ip: "255.255.255.255"), false, "[IP] (255.255.255.255) == pat(10.*)" },
        { "pat-status", "[STATUS] == pat(4*)", new(status: 404), true, null },
        { "pat-status-failure", "[STATUS] == pat(4*)", new(status: 200), false, "[STATUS] (200) == pat(4*)" },
        { "any-body-1", "[BODY].name == any(john.doe, jane.doe)", new(body: "{\"name\": \"john.doe\"}"), true, null },
        { "any-body-2", "[BODY].name == any(john.doe, jane.doe)", new(body: "{\"name\": \"jane.doe\"}"), true, null },
        { "any-body-failure", "[BODY].name == any(john.doe, jane.doe)", new(body: "{\"name\": \"bob\"}"), false, "[BODY].name (bob) == any(john.doe, jane.doe)" },
        { "any-status-1", "[STATUS] == any(200, 429)", new(status: 200), true, null },
        { "any-status-2", "[STATUS] == any(200, 429)", new(status: 429), true, null },
        { "any-status-reverse", "any(200, 429) == [STATUS]", new(status: 429), true, null },
        { "any-status-failure", "[STATUS] == any(200, 429)", new(status: 404), false, "[STATUS] (404) == any(200, 429)" },
        { "any-status-failure-but-dont-resolve", "[STATUS] == any(200, 429)", new(status: 404), false, null },
        { "has", "has([BODY].errors) == false", new(body: "{}"), true, null },
        { "has-key-of-map", "has([BODY].article) == true", new(body: "{\n  \"article\": {\n    \"id\": 123,\n    \"title\": \"Hello, world!\",\n    \"author\": \"John Doe\",\n    \"tags\": [\"hello\", \"world\"],\n    \"content\": \"I really like Gatus!\"\n  }\n}"), true, null },
        { "has-failure", "has([BODY].errors) == false", new(body: "{\"errors\": [\"1\"]}"), false, "has([BODY].errors) (true) == false" },
        { "has-failure-but-dont-resolve", "has([BODY].errors) == false", new(body: "{\"errors\": [\"1\"]}"), false, null },
    };

    [Theory]
    [MemberData(nameof(Evaluate))]
    public void Evaluates_as_gatus_condition_test(string name, string condition, ConditionContext observed, bool success, string? resolved)
    {
        var result = ConditionParser.Parse(condition).Evaluate(observed);
        Assert.True(success == result.Success, $"{name}: '{condition}' should be {(success ? "met" : "failed")}; got '{result.Description}'");
        if (resolved is not null) Assert.Equal(resolved, result.Description);
    }

    [Theory]
    [InlineData("[STATUS] == 200")]
    [InlineData("[STATUS] != 200")]
    [InlineData("[STATUS] <= 200")]
    [InlineData("[STATUS] >= 200")]
    [InlineData("[STATUS] < 200")]
    [InlineData("[STATUS] > 200")]
    [InlineData("[STATUS] == any(200, 201, 202, 203)")]
    [InlineData("[STATUS] == [BODY].status")]
    [InlineData("[CONNECTED] == true")]
    [InlineData("[RESPONSE_TIME] < 500")]
    [InlineData("[IP] == 127.0.0.1")]
    [InlineData("[BODY] == 1")]
    [InlineData("[BODY].test == wat")]
    [InlineData("[BODY].test.wat == wat")]
    [InlineData("[BODY].age == [BODY].id")]
    [InlineData("[BODY].users[0].id == 1")]
    [InlineData("len([BODY].users) == 100")]
    [InlineData("len([BODY].data) < 5")]
    [InlineData("has([BODY].errors) == false")]
    [InlineData("has([BODY].users[0].name) == true")]
    [InlineData("[BODY].name == pat(john*)")]
    [InlineData("[CERTIFICATE_EXPIRATION] > 48h")]
    [InlineData("raw == raw")]
    public void Accepts_what_gatus_validates(string condition) => ConditionParser.Parse(condition);

    [Theory]
    [InlineData("[STATUS] ? 201")]
    [InlineData("[STATUS]==201")]
    [InlineData("[STATUS] = = 201")]
    [InlineData("[STATUS] ==")]
    [InlineData("[STATUS]")]
    public void Rejects_what_gatus_rejects(string condition) => Assert.Throws<ConditionSyntaxException>(() => ConditionParser.Parse(condition));

    [Fact]
    public void Rejects_the_domain_expiration_gatus_has_and_says_why()
    {
        // Gatus validates "[DOMAIN_EXPIRATION] > 720h" and answers it with WHOIS; OpsRunbook makes no WHOIS lookups.
        var ex = Assert.Throws<ConditionSyntaxException>(() => ConditionParser.Parse("[DOMAIN_EXPIRATION] > 720h"));
        Assert.Contains("WHOIS", ex.Problem);
    }

    [Theory]
    [InlineData("*", "livingroom_123", true)]
    [InlineData("**", "livingroom_123", true)]
    [InlineData("living*", "livingroom_123", true)]
    [InlineData("*living*", "livingroom_123", true)]
    [InlineData("*123", "livingroom_123", true)]
    [InlineData("*_*", "livingroom_123", true)]
    [InlineData("living*_*3", "livingroom_123", true)]
    [InlineData("living*room_*3", "livingroom_123", true)]
    [InlineData("*vin*om*2*", "livingroom_123", true)]
    [InlineData("livingroom_123", "livingroom_123", true)]
    [InlineData("*livingroom_123*", "livingroom_123", true)]
    [InlineData("*test*", "\\test", true)]
    [InlineData("livingroom", "livingroom_123", false)]
    [InlineData("livingroom123", "livingroom_123", false)]
    [InlineData("what", "livingroom_123", false)]
    [InlineData("*what*", "livingroom_123", false)]
    [InlineData("*.*", "livingroom_123", false)]
    [InlineData("room*123", "livingroom_123", false)]
    public void Patterns_match_as_gatus_pattern_test(string pattern, string text, bool expected)
    {
        var result = ConditionParser.Parse($"[BODY] == pat({pattern})").Evaluate(new ConditionContext(body: text));
        Assert.Equal(expected, result.Success);
    }
}
