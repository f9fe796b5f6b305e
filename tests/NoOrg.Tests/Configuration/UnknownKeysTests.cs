using NoOrg.Configuration;

namespace NoOrg.Tests.Configuration;

public sealed class UnknownKeysTests
{
    [Fact]
    public void A_misspelled_key_is_reported_with_the_nearest_real_key()
    {
        var unknown = SettingsCatalog.Unknown(["NOORG_HTTP_URL", "NOORG_HTTP_URLS", "PATH", "NOORG_TEST_POSTGRES", "NOORG_TOTALLY_MADE_UP_THING"]);

        Assert.Equal(
            [("NOORG_HTTP_URL", (string?)"NOORG_HTTP_URLS"), ("NOORG_TOTALLY_MADE_UP_THING", null)],
            unknown);
    }

    [Fact]
    public void Every_documented_key_is_known()
    {
        Assert.Empty(SettingsCatalog.Unknown(SettingsCatalog.Keys));
    }
}
