namespace ForgeOne.Storage.Tests;
