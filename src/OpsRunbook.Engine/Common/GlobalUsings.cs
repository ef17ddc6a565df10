// The shared vocabulary every chapter of the Engine uses: durations, name patterns, host:port, failure descriptions.
global using OpsRunbook.Engine.Common;
