using System;
using System.Management.Automation;
using RedisRecovery.Resp;

namespace RedisRecovery.PowerShell.Commands
{
    /// <summary>
    /// Role, version, persistence, replication, cluster state, keys and memory of one or many servers, with
    /// warnings for states that put data at risk. An unreachable endpoint is an error for that endpoint only.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "RedisInstanceStatus", DefaultParameterSetName = EndpointSet)]
    [OutputType(typeof(RedisInstanceStatus))]
    public sealed class GetRedisInstanceStatusCommand : RedisEndpointCmdlet
    {
        private const string EndpointSet = nameof(Endpoint);

        /// <summary>host:port, [ipv6]:port, redis://[user@]host:port[/db], rediss://... or a unix socket path.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = EndpointSet)]
        [ValidateNotNullOrEmpty]
        public string[] Endpoint { get; set; } = Array.Empty<string>();

        protected override void ProcessRecord()
        {
            foreach (var text in Endpoint)
            {
                try
                {
                    var options = CreateConnectionOptions(RedisEndpoint.Parse(text));
                    WriteObject(RunEngine(hooks => InstanceStatusReader.ReadAsync(options, hooks.Log, hooks.Cancellation)));
                }
                catch (RedisRecoveryException failure)
                {
                    WriteError(ToErrorRecord(failure, RedisEndpoint.Redact(text)));
                }
            }
        }
    }
}
