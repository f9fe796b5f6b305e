Console.WriteLine("noorg");
