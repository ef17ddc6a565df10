// The Engine's shared vocabulary (Duration, NamePattern, OperationContext, OperationStatus...) in every cmdlet file.
global using OpsRunbook.Engine.Common;
