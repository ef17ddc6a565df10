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
    [InlineData("[BODY].status == \"ok\"", true)]
    [InlineData("[BODY].status == OK", false)]
    [InlineData("[BODY].data[1].id == 2", true)]
    [InlineData("[BODY].data[5].id == 2", false)]
    [InlineData("[BODY].name == john doe", true)]
    [InlineData("[BODY].nested.a-b.c == true", true)]
    [InlineData("[BODY].count > 2", true)]
    [InlineData("[BODY].nothing == null", true)]
    [InlineData("len([BODY].data) == 2", true)]
    [InlineData("len([BODY].name) == 8", true)]
    [InlineData("len([BODY].missing) == 0", false)]
    [InlineData("has([BODY].errors) == false", true)]
    [InlineData("has([BODY].status) == true", true)]
    [InlineData("[BODY].version == pat(1.4.*)", true)]
    [InlineData("[BODY].version == pat(2.*)", false)]
    [InlineData("[BODY].version != pat(2.*)", true)]
    [InlineData("[CONNECTED] == true", true)]
    [InlineData("[BODY].status < 5", false)]
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
        Assert.Equal("[BODY].nope (<no value>) == 1", missing.Description);
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
    [InlineData("[STATUS] === 200", 12, "'===' is not an operator")]
    [InlineData("[RESPONSE_TIME] <== 300", 19, "'<==' is not an operator")]
    [InlineData("[STATUS] !== 500", 12, "'!==' is not an operator")]
    [InlineData("[STATUS] 200", 10, "expected an operator")]
    [InlineData("[STATUS] ==", 12, "value is missing")]
    [InlineData("[STATSU] == 200", 1, "unknown placeholder [STATSU]")]
    [InlineData("[status] == 200", 1, "upper case")]
    [InlineData("[STATUS == 200", 1, "not closed")]
    [InlineData("[STATUS].x == 1", 9, "only [BODY] takes a path")]
    [InlineData("[BODY]. == 1", 8, "field name is missing")]
    [InlineData("[BODY].a[x] == 1", 9, "whole number")]
    [InlineData("[STATUS] == foo(1)", 13, "unknown function 'foo()'")]
    [InlineData("[STATUS] == any(200, 204", 25, "not closed")]
    [InlineData("[STATUS] < any(200)", 12, "== and != only")]
    [InlineData("any(200) == [STATUS]", 1, "right of the operator")]
    [InlineData("len(200) == 1", 5, "takes a placeholder")]
    [InlineData("[BODY].a == \"open", 13, "not closed")]
    [InlineData("200 == 200", 1, "compare a placeholder")]
    [InlineData("[STATUS] == any(200) x", 22, "unexpected")]
    public void Reports_the_column_where_parsing_broke(string text, int column, string problem)
    {
        var ex = Assert.Throws<ConditionSyntaxException>(() => ConditionParser.Parse(text));
        Assert.Equal(column, ex.Column);
        Assert.Contains(problem, ex.Problem);
        Assert.Contains($"column {column}", ex.Message);
        Assert.Contains(new string(' ', column - 1) + "^", ex.Message);
    }
}
