using NoOrg.Grains;

namespace NoOrg.Tests.Validation;

/// <summary>
/// Ids that Orleans' ADO.NET storage would keep as a number or GUID key (no string stored, so no index row could name
/// them) are refused with a message that says why and what to do; every other id is left alone.
/// </summary>
public sealed class IdRuleTests
{
    [Theory]
    [InlineData("42")]
    [InlineData("a1")]
    [InlineData("cafe")]
    [InlineData("FFFFFFFFFFFFFFFF")]
    [InlineData("0c2b4f9e-61a7-4a6e-9d3e-5b0f1f2a7c11")]
    [InlineData("0c2b4f9e61a74a6e9d3e5b0f1f2a7c11")]
    [InlineData("a1+suffix")]
    public void An_id_Orleans_reads_as_a_number_or_guid_is_refused_with_a_way_out(string id)
    {
        var problem = InputText.IdProblem("agentId", id);

        Assert.NotNull(problem);
        Assert.StartsWith($"agentId: '{id}' would be stored by Orleans as a number or GUID key", problem, StringComparison.Ordinal);
        Assert.EndsWith($"'agent-{id}'", problem, StringComparison.Ordinal);
        Assert.Null(InputText.IdProblem("agentId", $"agent-{id}")); // the suggested id is valid
    }

    [Theory]
    [InlineData("agent-1")]
    [InlineData("g1")]
    [InlineData("t-0c2b4f9e61a74a6e9d3e5b0f1f2a7c11")]
    [InlineData("1FFFFFFFFFFFFFFFF")] // 17 hex digits: too large for a number key, so Orleans keeps the string
    [InlineData("+a1")]
    [InlineData("worker+1")]
    public void Other_ids_are_accepted(string id) => Assert.Null(InputText.IdProblem("agentId", id));
}
