namespace ForgeOne.Security.Tests;
