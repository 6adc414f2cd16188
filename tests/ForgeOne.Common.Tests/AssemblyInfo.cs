namespace ForgeOne.Common.Tests;
