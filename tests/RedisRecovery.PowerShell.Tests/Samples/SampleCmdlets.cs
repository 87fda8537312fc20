using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using System.Threading.Tasks;

// Sample cmdlet classes for the checker's own tests: one that keeps every rule, and one per broken rule. They are
// compiled against PowerShellStandard but never executed (the tests read them through MetadataLoadContext), so they
// carry declarations only. Tests name them with nameof, which does not load the type.
#pragma warning disable CS8618 // parameters are set by the binder
namespace RedisRecovery.PowerShell.Tests.Samples
{
    /// <summary>Stands in for RedisRecoveryCmdlet, with an engine runner of the same name and shape.</summary>
    public abstract class SampleModuleCmdlet : PSCmdlet
    {
        protected T RunEngine<T>(Func<SampleEngineHooks, Task<T>> operation) => throw new NotSupportedException("samples are read, never run");
    }

    public sealed class SampleEngineHooks
    {
        public Task InvokeOnPipelineThread(Action action) => throw new NotSupportedException("samples are read, never run");
    }

    public sealed class SampleWidget
    {
        public string Name { get; set; }

        public string Path { get; set; }

        public long SizeBytes { get; set; }

        public FileInfo File { get; set; }
    }

    public sealed class SampleGadget
    {
        public string Label { get; set; }

        public SampleWidget File { get; set; }
    }

    public sealed class SampleMeasurement
    {
        public long SizeBytes { get; set; }
    }

    [Cmdlet(VerbsCommon.Get, "SampleWidget", DefaultParameterSetName = ByName)]
    [OutputType(typeof(SampleWidget))]
    public sealed class GetSampleWidgetCommand : SampleModuleCmdlet
    {
        public const string ByName = nameof(ByName);
        public const string ByPath = nameof(ByPath);

        [Parameter(ParameterSetName = ByName, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public string[] Name { get; set; }

        [Parameter(ParameterSetName = ByPath, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        public string[] Path { get; set; }

        [Parameter]
        public PSCredential Credential { get; set; }

        [Parameter]
        public SecureString Passphrase { get; set; }

        [Parameter]
        public string PasswordFile { get; set; }

        [Parameter]
        public SwitchParameter NoCredential { get; set; }
    }

    [Cmdlet(VerbsCommon.Remove, "SampleWidget", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByName)]
    [OutputType(typeof(SampleWidget))]
    public sealed class RemoveSampleWidgetCommand : SampleModuleCmdlet
    {
        public const string ByName = nameof(ByName);
        public const string ByObject = nameof(ByObject);

        [Parameter(ParameterSetName = ByName, Mandatory = true, ValueFromPipelineByPropertyName = true)]
        public string Name { get; set; }

        [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true)]
        public SampleWidget InputObject { get; set; }
    }

    /// <summary>Consumes widgets by property name only: SizeBytes must convert, File must be a FileInfo.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "SampleWidget")]
    [OutputType(typeof(bool))]
    public sealed class TestSampleWidgetCommand : SampleModuleCmdlet
    {
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        public FileInfo File { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("SizeBytes")]
        public int Size { get; set; }
    }

    [Cmdlet("Frobnicate", "SampleWidget")]
    public sealed class FrobnicateSampleWidgetCommand : SampleModuleCmdlet
    {
    }

    [Cmdlet(VerbsCommon.Set, "SampleWidget")]
    [OutputType(typeof(SampleWidget))]
    public sealed class SetSampleWidgetCommand : SampleModuleCmdlet
    {
    }

    [Cmdlet(VerbsCommon.Clear, "SampleWidget", SupportsShouldProcess = true)]
    [OutputType(typeof(SampleWidget))]
    public sealed class ClearSampleWidgetCommand : SampleModuleCmdlet
    {
    }

    [Cmdlet(VerbsCommon.Get, "SampleInternalOutput")]
    [OutputType(typeof(InternalResult), typeof(SampleWidget))]
    [OutputType("RedisRecovery.Unknown")]
    public sealed class GetSampleInternalOutputCommand : SampleModuleCmdlet
    {
        internal sealed class InternalResult
        {
        }
    }

    [Cmdlet(VerbsCommon.Get, "SampleParameterSetMistakes")]
    [OutputType(typeof(SampleWidget))]
    public sealed class GetSampleParameterSetMistakesCommand : SampleModuleCmdlet
    {
        [Parameter(ParameterSetName = "A", Position = 0, ValueFromPipeline = true)]
        public string First { get; set; }

        [Parameter(ParameterSetName = "A", Position = 0, ValueFromPipeline = true)]
        public string Second { get; set; }

        [Parameter(ParameterSetName = "B")]
        public string Third { get; set; }
    }

    [Cmdlet(VerbsCommon.Get, "SampleUnknownDefaultSet", DefaultParameterSetName = "Missing")]
    [OutputType(typeof(SampleWidget))]
    public sealed class GetSampleUnknownDefaultSetCommand : SampleModuleCmdlet
    {
        [Parameter(ParameterSetName = "A")]
        public string First { get; set; }

        [Parameter(ParameterSetName = "B")]
        public string Second { get; set; }
    }

    /// <summary>Position 0 in the all-sets parameter and in set B: both live in set B.</summary>
    [Cmdlet(VerbsCommon.Get, "SampleAllSetsClash", DefaultParameterSetName = "A")]
    [OutputType(typeof(SampleWidget))]
    public sealed class GetSampleAllSetsClashCommand : SampleModuleCmdlet
    {
        [Parameter(Position = 0)]
        public string Everywhere { get; set; }

        [Parameter(ParameterSetName = "A", Position = 1)]
        public string OnlyA { get; set; }

        [Parameter(ParameterSetName = "B", Position = 0)]
        public string OnlyB { get; set; }
    }

    [Cmdlet(VerbsCommunications.Connect, "SampleServer")]
    [OutputType(typeof(SampleWidget))]
    public sealed class ConnectSampleServerCommand : SampleModuleCmdlet
    {
        [Parameter]
        public string Password { get; set; }

        [Parameter]
        public string[] SecretKey { get; set; }

        [Parameter]
        public string KmsKeyId { get; set; }

        [Parameter]
        [Alias("ea")]
        public string Endpoint { get; set; }

        [Parameter]
        [Alias("Endpoint")]
        public string Address { get; set; }
    }

    /// <summary>Asks a question nobody in a runbook can answer.</summary>
    [Cmdlet(VerbsCommon.Get, "SamplePrompting")]
    [OutputType(typeof(SampleWidget))]
    public sealed class GetSamplePromptingCommand : SampleModuleCmdlet
    {
        protected override void ProcessRecord()
        {
            if (ShouldContinue("Really?", "Get-SamplePrompting"))
            {
                WriteObject(Host.UI.ReadLine());
            }
        }
    }

    [Cmdlet(VerbsCommon.Get, "SampleNotDerived")]
    [OutputType(typeof(SampleWidget))]
    public sealed class GetSampleNotDerivedCommand : PSCmdlet
    {
    }

    [Cmdlet(VerbsCommon.Get, "SampleHidden")]
    [OutputType(typeof(SampleWidget))]
    internal sealed class GetSampleHiddenCommand : SampleModuleCmdlet
    {
    }

    /// <summary>
    /// Hands the engine runner delegates that touch session state on the worker thread: directly, through a helper and
    /// from an async lambda; and one that resolves first and writes from the pipeline thread, as it should.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SampleOffThread")]
    [OutputType(typeof(string))]
    public sealed class GetSampleOffThreadCommand : SampleModuleCmdlet
    {
        [Parameter]
        public string Path { get; set; }

        protected override void ProcessRecord()
        {
            var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
            WriteObject(RunEngine(hooks => Task.FromResult(SessionState.Path.CurrentFileSystemLocation.ProviderPath)));
            WriteObject(RunEngine(async hooks =>
            {
                await Task.Yield();
                return Resolve(Path);
            }));
            WriteObject(RunEngine(hooks => hooks.InvokeOnPipelineThread(() => WriteVerbose(resolved)).ContinueWith(_ => resolved)));
        }

        private string Resolve(string path) => GetUnresolvedProviderPathFromPSPath(path);
    }

    /// <summary>Sets A and B (neither the default) share -Shared, and B adds only an optional -Extra.</summary>
    [Cmdlet(VerbsCommon.Get, "SampleAmbiguousSets", DefaultParameterSetName = "Default")]
    [OutputType(typeof(SampleWidget))]
    public sealed class GetSampleAmbiguousSetsCommand : SampleModuleCmdlet
    {
        [Parameter(ParameterSetName = "Default", Mandatory = true)]
        public string Id { get; set; }

        [Parameter(ParameterSetName = "A")]
        [Parameter(ParameterSetName = "B")]
        [Parameter(ParameterSetName = "C")]
        public string Shared { get; set; }

        [Parameter(ParameterSetName = "B")]
        public string Extra { get; set; }

        /// <summary>C holds all of A too, but is told apart by this mandatory parameter.</summary>
        [Parameter(ParameterSetName = "C", Mandatory = true)]
        public string Required { get; set; }
    }

    public sealed class SampleDynamicParameters
    {
        [Parameter]
        public string Password { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        public string Label { get; set; }
    }

    /// <summary>Its dynamic parameters hold a secret as a string and claim the name of a declared parameter.</summary>
    [Cmdlet(VerbsCommon.Get, "SampleDynamic")]
    [OutputType(typeof(SampleWidget))]
    public sealed class GetSampleDynamicCommand : SampleModuleCmdlet, IDynamicParameters
    {
        private readonly SampleDynamicParameters _dynamic = new();

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        public string Name { get; set; }

        public object GetDynamicParameters() => _dynamic;
    }

    /// <summary>Builds its dynamic parameters on demand, so metadata cannot show them.</summary>
    [Cmdlet(VerbsCommon.Get, "SampleHiddenDynamic")]
    [OutputType(typeof(SampleWidget))]
    public sealed class GetSampleHiddenDynamicCommand : SampleModuleCmdlet, IDynamicParameters
    {
        public object GetDynamicParameters() => new RuntimeDefinedParameterDictionary();
    }

    /// <summary>Takes any object by property name: a widget's string Name binds, not a widget.</summary>
    [Cmdlet(VerbsCommon.Set, "SampleLabel", SupportsShouldProcess = true)]
    [OutputType(typeof(SampleWidget))]
    public sealed class SetSampleLabelCommand : SampleModuleCmdlet
    {
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        public object Name { get; set; }
    }
}
