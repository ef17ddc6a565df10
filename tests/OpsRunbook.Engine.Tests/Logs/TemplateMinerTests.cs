using OpsRunbook.Engine.Logs;

namespace OpsRunbook.Engine.Tests;

/// <summary>The template miner against Drain's published examples and loghub's labelled HDFS lines; the masker's masks.</summary>
public class TemplateMinerTests
{
    private static readonly string[] SshdLines =
    [
        "Dec 10 07:07:38 LabSZ sshd[24206]: input_userauth_request: invalid user test9 [preauth]",
        "Dec 10 07:08:28 LabSZ sshd[24208]: input_userauth_request: invalid user webmaster [preauth]",
        "Dec 10 09:12:32 LabSZ sshd[24490]: Failed password for invalid user ftpuser from 0.0.0.0 port 62891 ssh2",
        "Dec 10 09:12:35 LabSZ sshd[24492]: Failed password for invalid user pi from 0.0.0.0 port 49289 ssh2",
        "Dec 10 09:12:44 LabSZ sshd[24501]: Failed password for invalid user ftpuser from 0.0.0.0 port 60836 ssh2",
        "Dec 10 07:28:03 LabSZ sshd[24245]: input_userauth_request: invalid user pgadmin [preauth]",
    ];

    [Fact]
    public void Gives_the_templates_of_drain3s_published_test_with_its_defaults()
    {
        // logpai/Drain3 tests/test_drain.py, test_add_log_message: the template after each line, depth 4, sim 0.4.
        string[] expected =
        [
            "Dec 10 07:07:38 LabSZ sshd[24206]: input_userauth_request: invalid user test9 [preauth]",
            "Dec 10 <*> LabSZ <*> input_userauth_request: invalid user <*> [preauth]",
            "Dec 10 09:12:32 LabSZ sshd[24490]: Failed password for invalid user ftpuser from 0.0.0.0 port 62891 ssh2",
            "Dec 10 <*> LabSZ <*> Failed password for invalid user <*> from 0.0.0.0 port <*> ssh2",
            "Dec 10 <*> LabSZ <*> Failed password for invalid user <*> from 0.0.0.0 port <*> ssh2",
            "Dec 10 <*> LabSZ <*> input_userauth_request: invalid user <*> [preauth]",
        ];
        var miner = new TemplateMiner();
        Assert.Equal(expected, SshdLines.Select(l => miner.Add(l).Template));
        Assert.Equal(2, miner.Clusters.Count);
        Assert.Equal(6, miner.Clusters.Sum(c => c.Size));
    }

    [Fact]
    public void Gives_the_templates_of_drain3s_published_test_at_similarity_0_75()
    {
        // test_add_log_message_sim_75: only the "Failed password" lines are similar enough to share a cluster.
        string[] expected =
        [
            "Dec 10 07:07:38 LabSZ sshd[24206]: input_userauth_request: invalid user test9 [preauth]",
            "Dec 10 07:08:28 LabSZ sshd[24208]: input_userauth_request: invalid user webmaster [preauth]",
            "Dec 10 09:12:32 LabSZ sshd[24490]: Failed password for invalid user ftpuser from 0.0.0.0 port 62891 ssh2",
            "Dec 10 <*> LabSZ <*> Failed password for invalid user <*> from 0.0.0.0 port <*> ssh2",
            "Dec 10 <*> LabSZ <*> Failed password for invalid user <*> from 0.0.0.0 port <*> ssh2",
            "Dec 10 07:28:03 LabSZ sshd[24245]: input_userauth_request: invalid user pgadmin [preauth]",
        ];
        var miner = new TemplateMiner(depth: 4, similarity: 0.75, maxChildren: 100);
        Assert.Equal(expected, SshdLines.Select(l => miner.Add(l).Template));
    }

    [Fact]
    public void A_message_shorter_than_the_depth_and_an_empty_one_find_their_clusters()
    {
        // test_add_shorter_than_depth_message
        var miner = new TemplateMiner();
        var hello = miner.Add("hello");
        Assert.Same(hello, miner.Add("hello"));
        Assert.NotSame(hello, miner.Add("otherword"));
        Assert.Same(miner.Add(""), miner.Add("   "));
        Assert.Equal(3, miner.Clusters.Count);
    }

    [Fact]
    public void Groups_loghubs_labelled_hdfs_lines_as_accurately_as_the_drain_paper_reports()
    {
        // Grouping accuracy as logpai's logparser evaluates it: a line counts when the group it landed in holds exactly
        // the lines of its ground-truth event. Drain scores 0.998 on HDFS (He et al. 2017; logparser's benchmark).
        var rows = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Logs", "Data", "HDFS_2k.tsv")).Select(l => l.Split('\t', 2)).ToList();
        var miner = new TemplateMiner();
        var clusterOf = rows.Select(r => miner.Add(LogMasker.Mask(r[1])).Id).ToList();
        var truth = rows.Select(r => r[0]).ToList();
        var correct = 0;
        foreach (var group in Enumerable.Range(0, rows.Count).GroupBy(i => truth[i]))
        {
            var clusters = group.Select(i => clusterOf[i]).Distinct().ToList();
            if (clusters.Count == 1 && clusterOf.Count(c => c == clusters[0]) == group.Count()) correct += group.Count();
        }
        var accuracy = (double)correct / rows.Count;
        Assert.True(accuracy >= 0.99, $"grouping accuracy {accuracy:0.000}; templates:\n{string.Join("\n", miner.Clusters.Select(c => $"{c.Size} {c.Template}"))}");
        Assert.Contains(miner.Clusters, c => c.Template == "PacketResponder <NUM> for block blk_<NUM> terminating");
    }

    [Fact]
    public void A_template_merged_from_another_miner_joins_the_cluster_its_messages_would_have()
    {
        var first = new TemplateMiner();
        var second = new TemplateMiner();
        first.Add("user alice logged in");
        second.Add("user bob logged in");
        second.Add("user carol logged in");
        var merged = first.Add(second.Clusters[0].Tokens, second.Clusters[0].Size);
        Assert.Equal("user <*> logged in", merged.Template);
        Assert.Equal(3, merged.Size);
        Assert.Single(first.Clusters);
    }

    [Theory]
    [InlineData("connected to 10.0.0.1", "connected to <IP>")]
    [InlineData("connect to 192.168.0.1:5432 refused", "connect to <IP> refused")]
    [InlineData("listening on [::1]:8080 and 2001:db8::7", "listening on [<IP>]:<NUM> and <IP>")]
    [InlineData("Hex number 0xDEADBEAF", "Hex number <HEX>")]
    [InlineData("request 9f86d081884c7d65 done", "request <HEX> done")]
    [InlineData("trace 123e4567-e89b-12d3-a456-426614174000 ok", "trace <UUID> ok")]
    [InlineData("took 250ms, then 1.5s, then 1h30m", "took <DURATION>, then <DURATION>, then <DURATION>")]
    [InlineData("retry 3 of 5 on db-3 (code -1, ratio 0.75)", "retry <NUM> of <NUM> on db-<NUM> (code <NUM>, ratio <NUM>)")]
    [InlineData("user42 at 10:15:30", "user42 at <NUM>:<NUM>:<NUM>")]
    [InlineData("deadbeef is a word, so is accepted", "deadbeef is a word, so is accepted")]
    [InlineData("PacketResponder 1 for block blk_-6952295868487656571 terminating", "PacketResponder <NUM> for block blk_<NUM> terminating")]
    // Shapes that start alike and part late: each is tried only where its start fits, none of them lost by that.
    [InlineData("a 1.2.3.4:80a b 1.2.3.4:123456 c 1.2.3 d 1234.1.1.1", "a <NUM>.<NUM>:80a b <IP>:<NUM> c <NUM>.<NUM> d <NUM>.<NUM>")]
    [InlineData("id abcdef12-x, abcdef12-1234-1234-1234-1234567890ab, 0x, 0x1f, 00ff00ff", "id <HEX>-x, <UUID>, 0x, <HEX>, <HEX>")]
    [InlineData("fe80::1%eth0 ::1 ab:cd 12:34:56:78:9a:bc:de:f0 -5s +3 -x", "<IP>%eth0 <IP> ab:cd <IP> <DURATION> <NUM> -x")]
    public void Masks_what_varies_between_occurrences(string message, string masked) => Assert.Equal(masked, LogMasker.Mask(message));
}
