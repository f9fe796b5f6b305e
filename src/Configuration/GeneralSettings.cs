namespace NoOrg.Configuration;

public enum DeploymentEnvironment { Development, Staging, Production }

[SettingsArea("NOORG", "General")]
public sealed class GeneralSettings
{
    [Setting("ENVIRONMENT", "development, staging or production; production enforces the security rules")]
    public DeploymentEnvironment Environment { get; set; } = DeploymentEnvironment.Development;

    public bool IsProduction => Environment == DeploymentEnvironment.Production;
}
