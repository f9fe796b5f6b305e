namespace NoOrg.Configuration;

/// <summary>Marks a settings class as one configuration area; its keys start with <paramref name="prefix"/>.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class SettingsAreaAttribute(string prefix, string title) : Attribute
{
    public string Prefix { get; } = prefix;
    public string Title { get; } = title;
}

/// <summary>Binds a property to the key <c>{area prefix}_{Name}</c>.</summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class SettingAttribute(string name, string description) : Attribute
{
    public string Name { get; } = name;
    public string Description { get; } = description;
}

/// <summary>The value is never echoed back in an error message.</summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class SecretAttribute : Attribute;

/// <summary>The value must be an absolute http or https URL.</summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class HttpUrlAttribute : Attribute;
