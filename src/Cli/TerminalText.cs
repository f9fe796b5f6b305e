using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Spectre.Console;

namespace NoOrg.Cli;

/// <summary>
/// The one place where text from the cluster is made safe for a terminal: every human-readable output (tables,
/// show, history, watch, error messages) goes through it, so a name holding an ESC sequence is shown as
/// <c>\u001b[31m</c> instead of recolouring the screen. JSON output needs nothing: its encoder escapes controls.
/// </summary>
internal static class TerminalText
{
    /// <summary>
    /// Control characters (C0 including line breaks and tabs, DEL, C1), lone surrogates and the Unicode
    /// bidirectional controls written as visible <c>\uXXXX</c> escapes; every other character as is.
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text) || !NeedsEscape(text))
        {
            return text ?? "";
        }

        var builder = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (IsUnsafe(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary><see cref="Escape"/>, then Spectre markup escaping: for a table cell or a markup line.</summary>
    public static string Markup(string? text) => Spectre.Console.Markup.Escape(Escape(text));

    /// <summary>The interpolated line with every string argument escaped (Spectre escapes markup in the holes itself).</summary>
    public static FormattableString Escaped(FormattableString value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var arguments = value.GetArguments().Select(a => a is string s ? Escape(s) : a).ToArray();
        return FormattableStringFactory.Create(value.Format, arguments);
    }

    /// <summary>Like <c>MarkupLineInterpolated</c>, with the arguments escaped by <see cref="Escaped"/>.</summary>
    public static void MarkupLineEscaped(this IAnsiConsole console, FormattableString value) => console.MarkupLineInterpolated(Escaped(value));

    private static bool NeedsEscape(string text)
    {
        foreach (var c in text)
        {
            if (IsUnsafe(c) || char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsUnsafe(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) || c is (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');
}
