global using OpsRunbook.Engine.Common;
