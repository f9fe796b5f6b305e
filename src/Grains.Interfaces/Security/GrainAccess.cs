using Orleans.Runtime;

namespace NoOrg.Grains.Security;

/// <summary>
/// The role a client's call of this method (or of every method of this interface) needs when authentication is
/// required; a method's declaration wins over its interface's. Without one: a method named <c>Get...</c>,
/// <c>List...</c>, <c>Find...</c> or <c>Count...</c> needs reader, any other operator. Calls between silos are not
/// checked. Admin includes operator, which includes reader.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Interface, Inherited = false)]
public sealed class RequiresAttribute(AccessRole role) : Attribute
{
    public AccessRole Role { get; } = role;
}

/// <summary>How a call names the agent an <c>agent</c> credential must be bound to.</summary>
public enum AgentScope
{
    /// <summary>The grain's key is the agent id (<see cref="Agents.IAgentGrain"/>, the agent's health grain).</summary>
    GrainKey,

    /// <summary>The method's <c>agentId</c> argument (a worker starting, completing or failing its task).</summary>
    AgentIdArgument,

    /// <summary>The task the call answers is assigned to the agent (checked on the answer: for reads only).</summary>
    AssignedTask,
}

/// <summary>
/// An <c>agent</c> credential may call this method for the agents it is bound to (see <see cref="AgentScope"/>), even
/// without the role the method otherwise needs.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class AgentMayAttribute(AgentScope scope) : Attribute
{
    public AgentScope Scope { get; } = scope;
}

/// <summary>
/// Where a grain call carries its caller's credential (an API key or a JWT): the request context entry
/// <see cref="Key"/>. The client library sets it from <c>NOORG_SECURITY_CLIENT_CREDENTIAL</c> on every call; an app
/// acting for several callers sets it per call with <see cref="Use"/>. The silo removes it once checked, so it never
/// travels on to other grains or clients.
/// </summary>
public static class GrainCallCredential
{
    public const string Key = "noorg.credential";

    /// <summary>Calls made in this async flow until the scope is disposed present <paramref name="credential"/>.</summary>
    public static IDisposable Use(string credential)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(credential);
        var before = RequestContext.Get(Key);
        RequestContext.Set(Key, credential);
        return new Scope(before);
    }

    private sealed class Scope(object? before) : IDisposable
    {
        public void Dispose()
        {
            if (before is null)
            {
                RequestContext.Remove(Key);
            }
            else
            {
                RequestContext.Set(Key, before);
            }
        }
    }
}
