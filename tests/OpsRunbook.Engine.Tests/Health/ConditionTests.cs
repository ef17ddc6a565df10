using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Tests;

public class ConditionTests
{
    private static readonly ConditionContext Context = new(
        status: 200,
        responseTimeMs: 123.4,
        body: """{"status":"ok","version":"1.4.2","data":[{"id":1},{"id":2}],"name":"john doe","nested":{"a-b":{"c":true}},"count":3,"nothing":null}""",
        connected: true);

    [Theory]
    [InlineData("[STATUS] == 200", true)]
    [InlineData("[STATUS] != 200", false)]
    [InlineData("[STATUS] < 300", true)]
    [InlineData("[STATUS] >= 500", false)]
    [InlineData("[STATUS] == any(200, 204)", true)]
    [InlineData("[STATUS] == any(500, 503)", false)]
    [InlineData("[STATUS] != any(500, 503)", true)]
    [InlineData("[RESPONSE_TIME] < 2000", true)]
    [InlineData("[RESPONSE_TIME] <= 123.4", true)]
    [InlineData("[RESPONSE_TIME] > 300", false)]
    [InlineData("[BODY].status == ok", true)]
    [InlineData("[BODY].status == \"ok\"", false)] // as in Gatus, quotes are part of the value
    [InlineData("[status] == 200", true)] // placeholder names in any case, as in Gatus
    [InlineData("[BODY].status == OK", false)]
    [InlineData("[BODY].data[1].id == 2", true)]
    [InlineData("[BODY].data[5].id == 2", false)]
    [InlineData("[BODY].name == john doe", true)]
    [InlineData("[BODY].nested.a-b.c == true", true)]
    [InlineData("[BODY].count > 2", true)]
    [InlineData("[BODY].nothing == null", false)] // a null is no value: [BODY].nothing (INVALID)
    [InlineData("has([BODY].nothing) == false", true)]
    [InlineData("len([BODY].data) == 2", true)]
    [InlineData("len([BODY].name) == 8", true)]
    [InlineData("len([BODY].missing) == 0", false)]
    [InlineData("has([BODY].errors) == false", true)]
    [InlineData("has([BODY].status) == true", true)]
    [InlineData("[BODY].version == pat(1.4.*)", true)]
    [InlineData("[BODY].version == pat(2.*)", false)]
    [InlineData("[BODY].version != pat(2.*)", true)]
    [InlineData("[CONNECTED] == true", true)]
    [InlineData("[BODY].status < 5", true)] // as in Gatus, what is not a number compares as 0
    [InlineData("[BODY].count == 0x3", true)] // Go's integer notation
    [InlineData("[BODY].count == 3.0", false)] // "3" and "3.0" are different texts, as in Gatus
    [InlineData("any(200, 204) == [STATUS]", true)]
    [InlineData("[CERTIFICATE_EXPIRATION] == 0", true)] // no certificate reads 0, as in Gatus
    [InlineData("[BODY].missing != ok", true)]
    public void Evaluates(string text, bool expected)
    {
        var result = ConditionParser.Parse(text).Evaluate(Context);
        Assert.Equal(expected, result.Success);
        Assert.Equal(text, result.Condition);
    }

    [Fact]
    public void Describes_the_actual_value_like_gatus()
    {
        var result = ConditionParser.Parse("[STATUS] == 503").Evaluate(Context);
        Assert.Equal("[STATUS] (200) == 503", result.Description);
        var missing = ConditionParser.Parse("[BODY].nope == 1").Evaluate(Context);
        Assert.Equal("[BODY].nope (INVALID) == 1", missing.Description);
        var slow = ConditionParser.Parse("[RESPONSE_TIME] < 100ms").Evaluate(Context);
        Assert.Equal("[RESPONSE_TIME] (123) < 100ms", slow.Description);
    }

    [Fact]
    public void A_non_json_body_has_no_paths_but_a_whole_value()
    {
        var ctx = new ConditionContext(status: 200, body: "OK");
        Assert.True(ConditionParser.Parse("[BODY] == OK").Evaluate(ctx).Success);
        Assert.False(ConditionParser.Parse("[BODY].status == ok").Evaluate(ctx).Success);
    }

    [Theory]
    [InlineData("", 1, "empty")]
    [InlineData("[STATUS] = 200", 10, "use '=='")]
    [InlineData("[STATUS] === 200", 10, "'===' is not an operator")]
    [InlineData("[RESPONSE_TIME] <== 300", 17, "'<==' is not an operator")]
    [InlineData("[STATUS] !== 500", 10, "'!==' is not an operator")]
    [InlineData("[STATUS]==200", 9, "put a space before and after '=='")]
    [InlineData("[STATUS] == 200 == 300", 17, "second '=='")]
    [InlineData("[DOMAIN_EXPIRATION] > 720h", 1, "WHOIS")]
    [InlineData("[STATUS] 200", 10, "expected an operator")]
    [InlineData("[STATUS] ==", 12, "value is missing")]
    [InlineData("[STATSU] == 200", 1, "unknown placeholder [STATSU]")]
    [InlineData("[STATUS == 200", 1, "not closed")]
    [InlineData("[STATUS].x == 1", 9, "only [BODY] takes a path")]
    [InlineData("[BODY]. == 1", 8, "field name is missing")]
    [InlineData("[BODY].a[x] == 1", 9, "whole number")]
    [InlineData("[STATUS] == foo(1)", 13, "unknown function 'foo()'")]
    [InlineData("[STATUS] == any(200, 204", 25, "not closed")]
    [InlineData("[STATUS] < any(200)", 12, "== and != only")]
    [InlineData("len(200) == 1", 5, "takes a placeholder")]
    [InlineData("[STATUS] == any(200) x", 22, "unexpected")]
    public void Reports_the_column_where_parsing_broke(string text, int column, string problem)
    {
        var ex = Assert.Throws<ConditionSyntaxException>(() => ConditionParser.Parse(text));
        Assert.Equal(column, ex.Column);
        Assert.Contains(problem, ex.Problem);
        Assert.Contains($"column {column}", ex.Message);
        Assert.Contains(new string(' ', column - 1) + "^", ex.Message);
    }

    [Theory]
    [InlineData("0x1F", true, 31)]
    [InlineData("-0x10", true, -16)]
    [InlineData("0o17", true, 15)]
    [InlineData("017", true, 15)]
    [InlineData("0b101", true, 5)]
    [InlineData("1_000", true, 1000)]
    [InlineData("0x_1F", true, 31)]
    [InlineData("1__0", false, 0)]
    [InlineData("08", false, 0)]
    [InlineData("9223372036854775807", true, long.MaxValue)]
    [InlineData("9223372036854775808", false, 0)]
    [InlineData("-9223372036854775808", true, long.MinValue)]
    [InlineData("1.0", false, 0)]
    [InlineData(" 1", false, 0)]
    public void Integers_read_as_go_strconv_parseint_base_0(string text, bool ok, long value)
    {
        Assert.Equal(ok, GoValues.TryParseInt(text, out var v));
        if (ok) Assert.Equal(value, v);
    }

    [Theory]
    [InlineData("2s", true, 2000)]
    [InlineData("1h30m", true, 5_400_000)]
    [InlineData("1.5s", true, 1500)]
    [InlineData(".5s", true, 500)]
    [InlineData("-2m", true, -120_000)]
    [InlineData("1500us", true, 1)]
    [InlineData("0", true, 0)]
    [InlineData("10", false, 0)]
    [InlineData("1d", false, 0)]
    [InlineData("s", false, 0)]
    public void Durations_read_as_go_time_parseduration(string text, bool ok, long ms)
    {
        Assert.Equal(ok, GoValues.TryParseDurationMs(text, out var v));
        if (ok) Assert.Equal(ms, v);
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("1.5", "1.5")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.00001", "1e-05")]
    [InlineData("1234567.5", "1.2345675e+06")]
    [InlineData("123456.5", "123456.5")]
    [InlineData("1e21", "1e+21")]
    [InlineData("1.5e300", "1.5e+300")]
    [InlineData("-2.25", "-2.25")]
    public void Numbers_print_as_go_fmt_v(string json, string expected) =>
        Assert.Equal(expected, GoValues.FormatV(System.Text.Json.JsonDocument.Parse(json).RootElement));

    [Fact]
    public void Objects_at_the_end_of_a_path_are_go_json_minified_with_sorted_keys()
    {
        var ctx = new ConditionContext(body: """{"a": {"z": 1, "b": "<x>", "m": [1, 2.5, null], "e": 1e-7}}""");
        Assert.Equal("""[BODY].a ({"b":"\u003cx\u003e","e":1e-7,"m":[1,2.5,null],"z":1}) == x""", ConditionParser.Parse("[BODY].a == x").Evaluate(ctx).Description);
        Assert.Equal("[BODY].a.m ([1 2.5 <nil>]) == x", ConditionParser.Parse("[BODY].a.m == x").Evaluate(ctx).Description);
    }
}
